import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { PROBLEM_CONTENT_TYPE } from '@shop/contracts'
import { client, eventually, fromAddress, isolate, mintToken, newSigner, spawnService, type Isolated, type ServiceProcess } from '@shop/testkit'

// Both services as processes with exactly the configuration that ships: no limit raised (the
// testkit's 'shipped' env), auth on, order calling product with its own key. Clients are
// told apart by their source address (127.0.0.x: Linux answers all of 127/8). What the README
// promises for a deployment behind an ingress is checked here against real sockets.
const READS_PER_MINUTE = 3000 // RATE_LIMIT_READS' default
const REFUSED_TOKENS_PER_MINUTE = 60 // RATE_LIMIT_AUTH_FAILURES' default

let iso: Isolated
let product: ServiceProcess
let order: ServiceProcess
let proxied: ServiceProcess
let productId: string

beforeAll(async () => {
  iso = await isolate('defaults')
  const shipped = { limits: 'shipped' } as const
  product = await spawnService('product', iso.env('product', {}, shipped))
  order = await spawnService('order', iso.env('order', { PRODUCT_URL: product.url }, shipped))
  // a replica as the k8s overlays set it: behind an ingress whose address is 127.0.0.2
  proxied = await spawnService('product', iso.env('product', { TRUSTED_PROXIES: '127.0.0.2' }, shipped))
  const created = await client(product.url).post('/products', { name: 'flooded', price: '3.00', qty: 1000 })
  productId = created.body.id
})
afterAll(async () => {
  await Promise.all([order, product, proxied].map((p) => p?.stop()))
  await iso?.cleanup()
})

/**
 * GETs the product from `from` until the first 429 (or `max` requests), 50 at a time; returns how
 * many were answered 200 and the first 429. The window is a wall-clock minute: a flood that
 * crosses its end starts counting again, so up to twice the limit may pass.
 */
async function flood(base: string, from: ReturnType<typeof fromAddress>, headers: (i: number) => Record<string, string> = () => ({}), max = 2 * READS_PER_MINUTE + 200) {
  let ok = 0
  for (let sent = 0; sent < max; sent += 50) {
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => from.send(`${base}/products/${productId}`, { headers: headers(sent + i) })))
    ok += replies.filter((r) => r.status === 200).length
    const limited = replies.find((r) => r.status === 429)
    if (limited) return { ok, limited }
  }
  return { ok, limited: undefined }
}

const expectLimited = (reply: { status: number; headers: Record<string, unknown>; text: string } | undefined, limit: number) => {
  expect(reply?.status).toBe(429)
  expect(String(reply!.headers['content-type'])).toStartWith(PROBLEM_CONTENT_TYPE)
  expect(Number(reply!.headers['retry-after'])).toBeGreaterThanOrEqual(1)
  expect(Number(reply!.headers['retry-after'])).toBeLessThanOrEqual(60)
  expect(reply!.headers['ratelimit-limit']).toBe(String(limit))
}

describe('shipped defaults: a browsing flood', () => {
  it("when one address reads past its limit, then it alone gets 429 and every customer's order is still 201 and settles", async () => {
    const visitor = fromAddress('127.0.0.5')
    const { ok, limited } = await flood(product.url, visitor)
    expectLimited(limited, READS_PER_MINUTE)
    expect(ok).toBeGreaterThanOrEqual(READS_PER_MINUTE)
    expect(ok).toBeLessThanOrEqual(2 * READS_PER_MINUTE)
    expect((await visitor.send(`${product.url}/products/${productId}`)).status).toBe(429)
    const neighbour = fromAddress('127.0.0.6')
    expect((await neighbour.send(`${product.url}/products/${productId}`)).status).toBe(200)

    // order's product check is order's own call, counted in the services' bucket
    const customers = await Promise.all(Array.from({ length: 5 }, (_, i) => mintToken({ sub: `shopper-${i}`, scope: 'orders:write' })))
    const placed = await Promise.all(customers.map((token) => client(order.url).as(token).post('/orders', { productId, qty: 1 })))
    expect(placed.map((r) => r.status)).toEqual([201, 201, 201, 201, 201])
    const orders = client(order.url)
    await eventually(
      async () => (await Promise.all(placed.map((p) => orders.get(`/orders/${p.body.id}`)))).every((r) => r.body.status === 'confirmed'),
      { timeout: 15_000, what: 'every order confirmed' },
    )
    expect((await iso.cacheKeys('product', 'rl:services:svc:order:*')).length).toBeGreaterThan(0)
    expect(await iso.cacheKeys('product', 'rl:reads:ip:127.0.0.1:*')).toEqual([]) // never as an anonymous address
    visitor.close()
    neighbour.close()
  })
})

describe('shipped defaults: clients behind a trusted proxy', () => {
  it('when two visitors come through the trusted proxy, then each has a limit of their own; the left of the chain is not believed', async () => {
    const ingress = fromAddress('127.0.0.2')
    // the visitor wrote a first hop of their own; the proxy appended the address it saw
    const { limited } = await flood(proxied.url, ingress, (i) => ({ 'x-forwarded-for': `10.${i % 250}.0.1, 198.51.100.1` }))
    expectLimited(limited, READS_PER_MINUTE)
    const again = (headers: Record<string, string>) => ingress.send(`${proxied.url}/products/${productId}`, { headers })
    expect((await again({ 'x-forwarded-for': '198.51.100.1' })).status).toBe(429)
    expect((await again({ forwarded: 'for=198.51.100.1;proto=https' })).status).toBe(429) // RFC 7239 says the same client
    expect((await again({ 'x-forwarded-for': '198.51.100.2' })).status).toBe(200) // another visitor
    expect((await again({ forwarded: 'for="[2001:db8::7]:4711"' })).status).toBe(200)
    ingress.close()
  })

  it('when a peer that is not a trusted proxy sends X-Forwarded-For, then it is ignored: the peer is limited whatever it claims', async () => {
    const spoofer = fromAddress('127.0.0.3')
    const { limited } = await flood(proxied.url, spoofer, (i) => ({ 'x-forwarded-for': `203.0.113.${i % 250}`, forwarded: `for=192.0.2.${i % 250}` }))
    expectLimited(limited, READS_PER_MINUTE)
    const claim = await spoofer.send(`${proxied.url}/products/${productId}`, { headers: { 'x-forwarded-for': '192.0.2.77' } })
    expect(claim.status).toBe(429)
    spoofer.close()
  })
})

describe('shipped defaults: refused tokens', () => {
  it('when one address sends forged tokens, then past the limit it gets 429 before any check, and other addresses are untouched', async () => {
    const forger = fromAddress('127.0.0.7')
    const forged = await mintToken({ signer: await newSigner(), sub: 'mallory' }) // well-formed, signed by another key
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
    const statuses: number[] = []
    for (let i = 0; i < REFUSED_TOKENS_PER_MINUTE + 5; i++)
      statuses.push((await forger.send(`${product.url}/products/${productId}`, { headers: bearer(forged) })).status)
    const firstLimited = statuses.indexOf(429)
    // a window boundary in the middle restarts the count; at most once
    expect(firstLimited).toBeGreaterThanOrEqual(REFUSED_TOKENS_PER_MINUTE)
    expect(statuses.slice(0, firstLimited).every((s) => s === 401)).toBe(true)
    const garbage = await forger.send(`${product.url}/products/${productId}`, { headers: bearer('not.a.jwt') })
    expectLimited(garbage, REFUSED_TOKENS_PER_MINUTE)
    // a new token from that address waits for the window too; one already verified there does not
    const fresh = await mintToken({ sub: 'someone-new', scope: 'products:write' })
    expect((await forger.send(`${product.url}/products/${productId}`, { headers: bearer(fresh) })).status).toBe(429)

    const bystander = fromAddress('127.0.0.8')
    expect((await bystander.send(`${product.url}/products/${productId}`, { headers: bearer(forged) })).status).toBe(401)
    const metrics = await (await fetch(`${product.url}/metrics`)).text()
    expect(metrics).toMatch(/shop_auth_failures_total\{[^}]*reason="limited"[^}]*\} [1-9]/)
    expect(metrics).toMatch(/shop_auth_failures_total\{[^}]*reason="invalid"[^}]*\} [1-9]/)
    forger.close()
    bystander.close()
  })
})

describe('shipped defaults: no lost update', () => {
  it('when a stock change is sent with an ETag read before an order took stock, then it is refused with 412 and the reservation stands', async () => {
    const staff = client(product.url)
    const created = await staff.post('/products', { name: 'etag', price: '1.00', qty: 10 })
    const read = await staff.get(`/products/${created.body.id}`)
    const etag = read.headers.get('etag')!
    expect(etag).toBeTruthy()
    const placed = await client(order.url).post('/orders', { productId: created.body.id, qty: 3 })
    expect(placed.status).toBe(201)
    await eventually(async () => (await client(order.url).get(`/orders/${placed.body.id}`)).body.status === 'confirmed', {
      what: 'order confirmed',
    })
    const stale = await staff.patch(`/products/${created.body.id}`, { qty: 10 }, { 'if-match': etag })
    expect(stale.status).toBe(412)
    expect(stale.headers.get('content-type') ?? '').toStartWith(PROBLEM_CONTENT_TYPE)
    expect((await staff.get(`/products/${created.body.id}`)).body.qty).toBe(7)
  })
})
