import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Product } from '@shop/contracts'
import { connectRedis, createCache } from '@shop/kit/cache'
import { createLog } from '@shop/kit/observability'
import { eventOf, eventually, publish } from '@shop/testkit'
import { expectJson } from '@shop/testkit/expect'
import { newProduct, productWorld, type ProductWorld } from './env.ts'

let w: ProductWorld
beforeAll(async () => (w = await productWorld()))
afterAll(() => w.stop())

const get = (id: string) => w.api.get(`/products/${id}`)

describe('GET /products/:id through the cache', () => {
  it('when read twice, then the first read is a MISS and the second a HIT with the same body', async () => {
    const { body: p } = await w.api.post('/products', newProduct())
    const first = await get(p.id)
    const second = await get(p.id)
    expect(first.headers.get('x-cache')).toBe('MISS')
    expect(second.headers.get('x-cache')).toBe('HIT')
    expectJson(second, 200, Product)
    expect(second.body).toEqual(first.body)
  })

  it('when the product is patched, then the next read shows the new values', async () => {
    const { body: p } = await w.api.post('/products', newProduct({ qty: 4 }))
    await get(p.id)
    await get(p.id)
    await w.api.patch(`/products/${p.id}`, { name: 'renamed', qty: 40 })
    const after = await get(p.id)
    expect(after.headers.get('x-cache')).toBe('MISS')
    expect(after.body).toMatchObject({ name: 'renamed', qty: 40 })
  })

  it('when the product is deleted, then the next read is a 404, not the cached copy', async () => {
    const { body: p } = await w.api.post('/products', newProduct())
    await get(p.id)
    expect((await get(p.id)).headers.get('x-cache')).toBe('HIT')
    await w.api.delete(`/products/${p.id}`)
    expect((await get(p.id)).status).toBe(404)
  })

  it('when order.created takes stock, then the next read shows the lower stock', async () => {
    const { body: p } = await w.api.post('/products', newProduct({ qty: 10 }))
    await get(p.id)
    expect((await get(p.id)).headers.get('x-cache')).toBe('HIT')
    await publish({ iso: w.iso, routingKey: 'order.created', payload: eventOf('order.created', { orderId: crypto.randomUUID(), productId: p.id, qty: 3 }) })
    const read = await eventually(async () => {
      const r = await get(p.id)
      return r.body.qty === 7 && r
    }, { what: 'stock 7 visible through the cache' })
    expect(read.headers.get('x-cache')).toBe('MISS')
  })

  it('when a write lands while a slow read is loading, then the slow read cannot cache the old value', async () => {
    const redis = connectRedis(w.iso.infra.redisUrl, createLog('test', 'silent'))
    const cache = createCache({ redis, prefix: `${w.iso.id}:race:`, ttlSeconds: 60, log: createLog('test', 'silent') })
    await eventually(() => redis.check().then(() => true), { what: 'redis connected' })
    let release!: () => void
    const loading = new Promise<void>((r) => (release = r))
    // the slow reader has read the old row and is about to store it ...
    const slow = cache.read('product:1', 'v1', async () => {
      await loading
      return { qty: 1 }
    })
    // ... when the write commits and invalidates
    await cache.invalidate('product:1')
    release()
    expect((await slow).value).toEqual({ qty: 1 })
    const next = await cache.read('product:1', 'v1', async () => ({ qty: 2 }))
    expect(next).toEqual({ value: { qty: 2 }, hit: false })
    expect(await cache.read('product:1', 'v1', async () => ({ qty: 3 }))).toEqual({ value: { qty: 2 }, hit: true })
    await cache.close()
    await redis.close()
  })
})
