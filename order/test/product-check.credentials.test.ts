import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, isolate, mintToken, spawnService, type Isolated, type ServiceProcess } from '@shop/testkit'
import { expectProblem } from '@shop/testkit/expect'

// order's product check carries order's own credential. The default wiring (order's own key,
// product trusting its public half) runs in every other suite; here: the OAuth 2.0 client
// credentials grant instead, order refusing to start without any credential, and product's 429
// reaching the customer as a 503 with product's Retry-After.
let iso: Isolated
let product: ServiceProcess
const started: ServiceProcess[] = []
beforeAll(async () => {
  iso = await isolate('credentials')
  product = await spawnService('product', iso.env('product', {}, { limits: 'shipped' }))
})
afterAll(async () => {
  await Promise.all([...started, product].map((p) => p?.stop()))
  await iso?.cleanup()
})
const newProduct = async (base: string) => (await client(base).post('/products', { name: 'checked', price: '2.00', qty: 50 })).body.id as string

/**
 * A token endpoint that speaks RFC 6749 4.4 as an identity provider does: Basic client
 * authentication, `grant_type=client_credentials`, a JWT signed by the key product trusts. It
 * stands in for Keycloak or Entra, which cannot run here.
 */
function tokenEndpoint() {
  const requests: { authorization: string | null; form: URLSearchParams }[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const form = new URLSearchParams(await req.text())
      requests.push({ authorization: req.headers.get('authorization'), form })
      if (req.headers.get('authorization') !== `Basic ${btoa('order-client:s3cret')}` || form.get('grant_type') !== 'client_credentials')
        return Response.json({ error: 'invalid_client' }, { status: 401 })
      const token = await mintToken({ sub: 'order-client', scope: form.get('scope') ?? '', expiresIn: 300 })
      return Response.json({ access_token: token, token_type: 'Bearer', expires_in: 300 })
    },
  })
  return { url: `http://127.0.0.1:${server.port}/token`, requests, stop: () => server.stop(true) }
}

describe("order's credential for the product check", () => {
  it('when order gets its token by client credentials, then orders are placed, one token serves many, and product counts order as a service', async () => {
    const idp = tokenEndpoint()
    try {
      const order = await spawnService(
        'order',
        iso.env(
          'order',
          { PRODUCT_URL: product.url, SERVICE_PRIVATE_JWK: '', SERVICE_TOKEN_URL: idp.url, SERVICE_CLIENT_ID: 'order-client', SERVICE_CLIENT_SECRET: 's3cret' },
          { limits: 'shipped' },
        ),
      )
      started.push(order)
      const productIds = await Promise.all([1, 2, 3].map(() => newProduct(product.url)))
      const placed = await Promise.all(productIds.map((productId) => client(order.url).post('/orders', { productId, qty: 1 })))
      expect(placed.map((r) => r.status)).toEqual([201, 201, 201])
      expect(idp.requests.length).toBe(1)
      expect(idp.requests[0]!.form.get('scope')).toBe('products:check')
      expect(await iso.cacheKeys('product', 'rl:services:svc:order-client:*')).toHaveLength(1)
      expect(order.output()).not.toContain('s3cret') // the secret never reaches a log line
    } finally {
      idp.stop()
    }
  })

  it('when auth is on and order has no credential at all, then it refuses to start and says what to set', async () => {
    const failed = await spawnService('order', iso.env('order', { PRODUCT_URL: product.url, SERVICE_PRIVATE_JWK: '' }), { readyTimeout: 10_000 }).then(
      (p) => (started.push(p), 'started'),
      (err: Error) => err.message,
    )
    expect(failed).toContain('SERVICE_PRIVATE_JWK')
    expect(failed).toContain('SERVICE_TOKEN_URL')
  })

  it("when product answers order's check with 429, then the customer gets 503 with product's Retry-After", async () => {
    // RATE_LIMIT_SERVICES lowered to 2 to provoke the 429: this test is about order's answer to it
    const strict = await spawnService('product', iso.env('product', { RATE_LIMIT_SERVICES: '2' }, { limits: 'shipped' }))
    started.push(strict)
    const order = await spawnService('order', iso.env('order', { PRODUCT_URL: strict.url }, { limits: 'shipped' }))
    started.push(order)
    const productIds = await Promise.all([1, 2, 3, 4, 5].map(() => newProduct(strict.url)))
    const replies = []
    for (const productId of productIds) replies.push(await client(order.url).post('/orders', { productId, qty: 1 }))
    // two checks per wall-clock minute: of five calls at most four pass, even across a window's end
    const refused = replies.find((r) => r.status !== 201)
    expect(refused).toBeDefined()
    expectProblem(refused!, 503)
    // product's Retry-After is the rest of its window
    const rest = 60 - (Math.floor(Date.now() / 1000) % 60)
    const apart = Math.abs(Number(refused!.headers.get('retry-after')) - rest)
    expect(Math.min(apart, 60 - apart)).toBeLessThanOrEqual(2) // a window may have ended since
  })
})
