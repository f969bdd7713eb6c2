import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { OrderPage, type Order } from '@shop/contracts'
import { expectJson, expectProblem } from '@shop/testkit/expect'
import { eventually } from '@shop/testkit'
import { orderWorld, type OrderWorld } from './env.ts'

let w: OrderWorld
beforeAll(async () => (w = await orderWorld()))
afterAll(() => w.stop())

const list = (productId: string, query = '') => w.orders.get(`/orders/product/${productId}${query}`)

describe('GET /orders/product/:productId', () => {
  it('when read twice, then MISS then HIT with the same page', async () => {
    const p = await w.product(5)
    await w.orders.post('/orders', { productId: p.id, qty: 1 })
    const first = await list(p.id)
    const second = await list(p.id)
    expectJson(first, 200, OrderPage)
    expect(first.headers.get('x-cache')).toBe('MISS')
    expect(second.headers.get('x-cache')).toBe('HIT')
    expect(second.body).toEqual(first.body)
  })

  it('when an order of the product is created, then the cached list is not served any more', async () => {
    const p = await w.product(5)
    await w.orders.post('/orders', { productId: p.id, qty: 1 })
    await list(p.id)
    expect((await list(p.id)).headers.get('x-cache')).toBe('HIT')
    await w.orders.post('/orders', { productId: p.id, qty: 1 })
    const after = await list(p.id)
    expect(after.headers.get('x-cache')).toBe('MISS')
    expect(after.body.items).toHaveLength(2)
  })

  it('when an order of the product is placed, then the total cached with the page is forgotten with it', async () => {
    const p = await w.product(5)
    await w.orders.post('/orders', { productId: p.id, qty: 1 })
    await list(p.id)
    const cached = await list(p.id, '')
    expect([cached.headers.get('x-cache'), cached.body.total]).toEqual(['HIT', 1])
    await w.orders.post('/orders', { productId: p.id, qty: 1 })
    const after = await list(p.id)
    expect([after.headers.get('x-cache'), after.body.total]).toEqual(['MISS', 2])
  })

  it('when a page cached by an order from before `total` is current in Redis, then it is not served: the page is read with its total', async () => {
    const p = await w.product(5)
    await w.orders.post('/orders', { productId: p.id, qty: 1 })
    // what that release stores for `?limit=20` (variant `<limit>:<cursor>`), at the current generation
    const { cache } = w.inside()
    const olderPage = async () => ({ items: [], nextCursor: null })
    await eventually(async () => (await cache.read(`orders:product:${p.id}`, '20:', olderPage)).hit, { timeout: 2000, what: 'the older page cached' })
    const res = await list(p.id, '?limit=20')
    expectJson(res, 200, OrderPage)
    expect([res.headers.get('x-cache'), res.body.items.length, res.body.total]).toEqual(['MISS', 1, 1])
  })

  it('when an order changes status, then the list shows the new status', async () => {
    const p = await w.product(5)
    const { body: order } = await w.withRelayPaused(() => w.orders.post<Order>('/orders', { productId: p.id, qty: 1 }))
    expect((await list(p.id)).body.items[0].status).toBe('pending')
    await w.settled(order.id)
    expect((await list(p.id)).body.items[0].status).toBe('confirmed')
    await w.orders.delete(`/orders/${order.id}`)
    expect((await list(p.id)).body.items[0].status).toBe('cancelled')
  })

  it('when paging, then each order is listed once, oldest first', async () => {
    const p = await w.product(10)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await w.orders.post<Order>('/orders', { productId: p.id, qty: 1 })).body.id)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page: { items: Order[]; nextCursor: string | null } = (await list(p.id, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).body
      seen.push(...page.items.map((o) => o.id))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual(ids)
  })

  it('when the product id is malformed, then a 400 problem naming params.productId', async () => {
    expectProblem(await list('nope'), 400, 'params.productId')
  })
})
