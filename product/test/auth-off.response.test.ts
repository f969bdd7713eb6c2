import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, isolate, spawnService, type Isolated, type ServiceProcess } from '@shop/testkit'

// AUTH=off: the seed's unauthenticated clients work as before, and the service says it is open
let iso: Isolated
let product: ServiceProcess
beforeAll(async () => {
  iso = await isolate('authoff')
  product = await spawnService('product', iso.env('product', { AUTH: 'off', JWT_PUBLIC_KEY: '', LOG_LEVEL: 'warn' }))
})
afterAll(async () => {
  await product.stop()
  await iso.cleanup()
})

describe('AUTH=off', () => {
  it("when the seed's client creates and reads a product without a token, then it works", async () => {
    const api = client(product.url, { token: null })
    const created = await api.post('/products', { name: 'open', price: 1.5, qty: 2 })
    expect(created.status).toBe(201)
    expect((await api.get(`/products/${created.body.id}`)).body).toMatchObject({ name: 'open', price: '1.50' })
  })

  it('then a warning was logged at start and /ready reports it', async () => {
    expect(product.output()).toContain('AUTH=off')
    expect((await client(product.url).get('/ready')).body).toMatchObject({ status: 'ready', auth: 'off' })
  })
})

describe('AUTH on without a key', () => {
  it('when neither JWT_JWKS_URL nor JWT_PUBLIC_KEY is set, then the service refuses to start and says what to set', async () => {
    const failed = await spawnService('product', iso.env('product', { JWT_PUBLIC_KEY: '' }), { readyTimeout: 10_000 }).then(
      () => 'started',
      (err: Error) => err.message,
    )
    expect(failed).toContain('neither JWT_JWKS_URL nor JWT_PUBLIC_KEY')
  })
})
