import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { OrderPage, type Order } from '@shop/contracts'
import { expectJson } from '@shop/testkit/expect'
import { orderWorld, type OrderWorld } from './env.ts'

let w: OrderWorld
beforeAll(async () => (w = await orderWorld()))
afterAll(() => w.stop())

const list = (productId: string, query = '') => w.orders.get(`/orders/product/${productId}${query}`)
const place = async (productId: string, n: number) => {
  const ids: string[] = []
  for (let i = 0; i < n; i++) ids.push((await w.orders.post<Order>('/orders', { productId, qty: 1 })).body.id)
  return ids
}

describe('GET /orders/product/:productId, its total', () => {
  it('when the product has no orders, then an empty last page with total 0', async () => {
    const p = await w.product(5)
    const res = await list(p.id)
    expectJson(res, 200, OrderPage)
    expect(res.body).toEqual({ items: [], nextCursor: null, total: 0 })
  })

  it("when paging, then every page carries the count of all the product's orders, not of the page or of those after the cursor", async () => {
    const [p, other] = [await w.product(10), await w.product(10)]
    await place(p.id, 5)
    await place(other.id, 2)
    const pages: OrderPage[] = []
    let cursor: string | null = null
    do {
      const res = await list(p.id, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      expectJson(res, 200, OrderPage)
      pages.push(res.body)
      cursor = res.body.nextCursor
    } while (cursor)
    expect(pages.map((page) => [page.items.length, page.total])).toEqual([[2, 5], [2, 5], [1, 5]])
  })

  it('when the cursor is the last order, then the empty page after it still carries the total', async () => {
    const p = await w.product(5)
    const ids = await place(p.id, 3)
    const res = await list(p.id, `?cursor=${ids.at(-1)}`)
    expectJson(res, 200, OrderPage)
    expect(res.body).toEqual({ items: [], nextCursor: null, total: 3 })
  })
})
