import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Product, ProductPage } from '@shop/contracts'
import { eventOf, eventually, publish, runtimes } from '@shop/testkit'
import { expectJson } from '@shop/testkit/expect'
import { newProduct, productWorld, type ProductWorld } from './env.ts'

let w: ProductWorld

const tagOf = (version: number) => `"${version}"`
const get = (id: string) => w.api.get(`/products/${id}`)
/** an order of `qty` of the product, as order.created arrives from the broker; returns once it is decided */
async function orderArrives(productId: string, qty: number) {
  const event = eventOf('order.created', { orderId: crypto.randomUUID(), productId, qty })
  await publish({ iso: w.iso, routingKey: 'order.created', payload: event })
  await eventually(async () => (await w.db`select 1 from reservations where order_id = ${event.orderId}`).length === 1, { what: 'the stock taken' })
  return event
}

// the same contract, served by Bun and by Deno
describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await productWorld(runtime)))
  afterAll(() => w.stop())

  describe('ETag = "<version>"', () => {
    it('when a product is created, then the 201 carries ETag "1", its version', async () => {
      const res = await w.api.post('/products', newProduct())
      expectJson(res, 201, Product)
      expect(res.body.version).toBe(1)
      expect(res.headers.get('etag')).toBe(tagOf(1))
    })

    it('when it is read, then the 200 carries the same ETag, from the database and from the cache', async () => {
      const { body: p } = await w.api.post('/products', newProduct())
      const miss = await get(p.id)
      const hit = await get(p.id)
      expect([miss.headers.get('x-cache'), hit.headers.get('x-cache')]).toEqual(['MISS', 'HIT'])
      for (const res of [miss, hit]) {
        expectJson(res, 200, Product)
        expect(res.headers.get('etag')).toBe(tagOf(res.body.version))
        expect(res.body.version).toBe(1)
      }
    })

    it('when it is patched, then the 200 carries the next version as ETag, and so does the next read', async () => {
      const { body: p } = await w.api.post('/products', newProduct())
      await get(p.id) // cached
      const res = await w.api.patch(`/products/${p.id}`, { name: 'renamed' })
      expectJson(res, 200, Product)
      expect(res.body.version).toBe(2)
      expect(res.headers.get('etag')).toBe(tagOf(2))
      const after = await get(p.id)
      expect([after.headers.get('etag'), after.body.version]).toEqual([tagOf(2), 2])
    })

    it('when an order takes stock, then the version grows and the ETag changes; when it is cancelled, again', async () => {
      const { body: p } = await w.api.post('/products', newProduct({ qty: 10 }))
      const before = await get(p.id) // cached: the take must make it stale
      const order = await orderArrives(p.id, 3)
      // the cached copy is forgotten right after the take commits
      const taken = await eventually(async () => {
        const res = await get(p.id)
        return res.body.qty === 7 && res
      }, { what: 'the taken stock read' })
      expectJson(taken, 200, Product)
      expect(taken.body).toMatchObject({ qty: 7, version: 2 })
      expect(taken.headers.get('etag')).toBe(tagOf(2))
      expect(taken.headers.get('etag')).not.toBe(before.headers.get('etag'))

      await publish({ iso: w.iso, routingKey: 'order.cancelled', payload: eventOf('order.cancelled', { orderId: order.orderId, productId: p.id, qty: 3 }) })
      const released = await eventually(async () => {
        const res = await get(p.id)
        return res.body.qty === 10 && res
      }, { what: 'the stock put back' })
      expect([released.body.version, released.headers.get('etag')]).toEqual([3, tagOf(3)])
    })

    it('when an order is rejected for want of stock, then the product did not change and its ETag stays', async () => {
      const { body: p } = await w.api.post('/products', newProduct({ qty: 1 }))
      await orderArrives(p.id, 2)
      const res = await get(p.id)
      expect([res.body.qty, res.body.version, res.headers.get('etag')]).toEqual([1, 1, tagOf(1)])
    })

    it('when products are listed, then each carries its version', async () => {
      const { body: p } = await w.api.post('/products', newProduct())
      await w.api.patch(`/products/${p.id}`, { qtyDelta: 1 })
      const res = await w.api.get('/products?limit=100')
      expectJson(res, 200, ProductPage)
      expect(res.body.items.find((i: Product) => i.id === p.id)?.version).toBe(2)
    })
  })
})
