import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Product } from '@shop/contracts'
import { eventOf, eventually, publish, runtimes } from '@shop/testkit'
import { expectJson, expectProblem } from '@shop/testkit/expect'
import { newProduct, productWorld, type ProductWorld } from './env.ts'

// The lost update this guards against: staff read a product (qty 10), an order takes 3 (qty 7),
// then staff send the stock they computed from their read. Sent as `qty: 15` without a
// precondition it would erase the reservation (oversell); with the ETag of their read it is
// refused, and as `qtyDelta: 5` it lands on top of the order.
let w: ProductWorld

const stockOf = async (id: string) => (await w.db`select qty, version from products where id = ${id}`)[0] as { qty: number; version: number }
async function orderTakes(productId: string, qty: number) {
  const orderId = crypto.randomUUID()
  await publish({ iso: w.iso, routingKey: 'order.created', payload: eventOf('order.created', { orderId, productId, qty }) })
  await eventually(async () => (await w.db`select status from reservations where order_id = ${orderId}`)[0]?.status === 'reserved', {
    what: 'the order reserved',
  })
}
/** staff's read of a product of 10, then an order of 3 that lands after it */
async function readThenOrderTakesThree() {
  const { body: p } = await w.api.post('/products', newProduct({ qty: 10 }))
  const read = await w.api.get(`/products/${p.id}`)
  expect(read.body.qty).toBe(10)
  await orderTakes(p.id, 3)
  return { id: p.id as string, etag: read.headers.get('etag')! }
}

describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await productWorld(runtime)))
  afterAll(() => w.stop())

  describe('a stock change computed before an order took stock', () => {
    it('when sent as qty with the ETag read before the order, then 412 and the reservation stays', async () => {
      const { id, etag } = await readThenOrderTakesThree()
      const res = await w.api.patch(`/products/${id}`, { qty: 15 }, { 'if-match': etag })
      expectProblem(res, 412, 'headers.if-match')
      expect(await stockOf(id)).toEqual({ qty: 7, version: 2 })
    })

    it('when read again and sent with the new ETag, then it is made: staff saw the order', async () => {
      const { id } = await readThenOrderTakesThree()
      // the cached copy is forgotten right after the take commits
      const again = await eventually(async () => {
        const res = await w.api.get(`/products/${id}`)
        return res.body.qty === 7 && res
      }, { what: 'the product read after the order' })
      const res = await w.api.patch(`/products/${id}`, { qty: again.body.qty + 5 }, { 'if-match': again.headers.get('etag')! })
      expectJson(res, 200, Product)
      expect(res.body.qty).toBe(12)
    })

    it('when sent as qtyDelta: 5 instead, then the stock is 10 - 3 + 5 = 12, the reservation intact', async () => {
      const { id } = await readThenOrderTakesThree()
      const res = await w.api.patch(`/products/${id}`, { qtyDelta: 5 })
      expectJson(res, 200, Product)
      expect(res.body).toMatchObject({ qty: 12, version: 3 })
      expect(res.headers.get('etag')).toBe('"3"')
      expect(await stockOf(id)).toEqual({ qty: 12, version: 3 })
      expect((await w.db`select qty, status from reservations where product_id = ${id}`).map((r) => ({ ...r }))).toEqual([{ qty: 3, status: 'reserved' }])
    })
  })
})
