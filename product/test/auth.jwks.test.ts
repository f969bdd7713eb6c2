import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { bootInProcess, client, isolate, mintToken, newSigner, publicJwk, type Isolated, type Signer } from '@shop/testkit'
import { expectProblem } from '@shop/testkit/expect'
import { loadConfig } from '../src/config.ts'
import { startProduct } from '../src/start.ts'

// An identity provider's JWKS endpoint, served here, that the test can rotate and take down.
let iso: Isolated
let jwks: ReturnType<typeof Bun.serve>
let published: Signer[] = []
let up = true
const stops: (() => Promise<void>)[] = []
let first: Signer
let second: Signer

beforeAll(async () => {
  iso = await isolate('jwks')
  ;[first, second] = await Promise.all([newSigner('key-1'), newSigner('key-2')])
  published = [first]
  jwks = Bun.serve({
    port: 0,
    fetch: async () => (up ? Response.json({ keys: await Promise.all(published.map(publicJwk)) }) : new Response('down', { status: 503 })),
  })
})
afterAll(async () => {
  for (const stop of stops) await stop()
  jwks.stop(true)
  await iso.cleanup()
})

/** product verifying against the JWKS (no static key); `extra` tunes its cache */
async function productOnJwks(extra: Record<string, string> = {}) {
  const env = iso.env('product', { JWT_JWKS_URL: `http://127.0.0.1:${jwks.port}/jwks.json`, JWT_PUBLIC_KEY: '', ...extra })
  const running = await bootInProcess(() => startProduct(loadConfig(env)))
  stops.push(running.stop)
  return client(running.url)
}

const create = (api: ReturnType<typeof client>, signer: Signer) =>
  mintToken({ signer, scope: 'products:write' }).then((token) => api.as(token).post('/products', { name: 'jwks', price: '1.00', qty: 1 }))

describe("tokens checked against an identity provider's JWKS", () => {
  it('when a new key (kid) appears in the JWKS, then its tokens are accepted without a restart', async () => {
    up = true
    published = [first]
    const api = await productOnJwks({ JWT_JWKS_COOLDOWN_SECONDS: '0' })
    expect((await create(api, first)).status).toBe(201)
    expectProblem(await create(api, second), 401) // not published yet
    published = [first, second]
    expect((await create(api, second)).status).toBe(201)
  })

  it('when the JWKS endpoint is down, then the keys read before keep working, unknown ones get 401, never a 5xx', async () => {
    up = true
    published = [first]
    const api = await productOnJwks({ JWT_JWKS_MAX_AGE_SECONDS: '0', JWT_JWKS_COOLDOWN_SECONDS: '0' }) // re-read on every token
    expect((await create(api, first)).status).toBe(201)
    up = false
    expect((await create(api, first)).status).toBe(201)
    expectProblem(await create(api, second), 401)
  })

  it('when the JWKS endpoint is down before any key was read, then the answer is 503 with Retry-After', async () => {
    up = false
    const api = await productOnJwks()
    const res = await create(api, first)
    expectProblem(res, 503)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})
