import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'bun:test'
import { OrderSummary } from '@shop/contracts'
import { expectJson, expectProblem } from '@shop/testkit/expect'
import { eventually, mintToken } from '@shop/testkit'
import { bffWorld, type BffWorld } from './env.ts'
import type { Seen } from './stubs.ts'

let w: BffWorld
const productId = '0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24'
const product = { id: productId, name: 'Coffee beans', price: '19.99', qty: 8, version: 3, createdAt: '2026-11-25T10:00:00.000Z', updatedAt: '2026-11-25T10:00:00.000Z' }
const orderNo = (n: number) => `0192f5a4-3c1e-7d2a-9b61-${String(n).padStart(12, '0')}`
const order = (n: number) => ({
  id: orderNo(n),
  productId,
  customerId: 'customer-1',
  qty: 1,
  unitPrice: '19.99',
  totalPrice: '19.99',
  status: 'confirmed',
  rejectionReason: null,
  createdAt: '2026-11-25T10:00:00.000Z',
  updatedAt: '2026-11-25T10:00:00.000Z',
})
const problem = (status: number, title: string, headers: Record<string, string> = {}) =>
  Response.json({ type: 'https://shop.example/problems/x', title, status }, { status, headers: { 'content-type': 'application/problem+json', ...headers } })

/**
 * order with `count` orders of the product, paged by `limit` and `cursor` (the position after the cursor's order) as order pages them,
 * each page with their `total`; without it (`{ total: false }`) as an order from before `total` answered.
 */
function ordersOf(count: number, { total = true } = {}) {
  return (seen: Seen) => {
    const url = new URL(seen.path, 'http://order')
    const limit = Number(url.searchParams.get('limit') ?? 20)
    const cursor = url.searchParams.get('cursor')
    const from = cursor ? Number(cursor.slice(-12)) + 1 : 0
    const items = Array.from({ length: Math.max(0, Math.min(limit, count - from)) }, (_, i) => order(from + i))
    return Response.json({ items, nextCursor: from + limit < count ? orderNo(from + limit - 1) : null, ...(total ? { total: count } : {}) })
  }
}

let staff: string
beforeAll(async () => {
  w = await bffWorld()
  staff = await mintToken({ sub: 'staff-1', scope: 'products:write orders:read' })
})
afterAll(() => w.stop())
beforeEach(() => {
  w.product.answers(() => Response.json(product))
  w.order.answers(ordersOf(3))
})

const summary = (query = '', token = staff) => w.api.as(token).get(`/order-summary/${productId}${query}`)

describe('GET /order-summary/:productId', () => {
  it("when both services answer, then the seed's shape: the product with currentStock, its orders and how many there are", async () => {
    const res = await summary()
    expectJson(res, 200, OrderSummary)
    expect(res.body).toEqual({
      product: { id: productId, name: 'Coffee beans', price: '19.99', currentStock: 8 },
      orders: [order(0), order(1), order(2)],
      nextCursor: null,
      totalOrders: 3,
    })
    expect(res.headers.has('x-partial')).toBe(false)
  })

  it("when asked, then product and order are asked at once (each waits for the other's request to arrive), with the caller's token and request id", async () => {
    const arrived = (stub: { seen: Seen[] }, before: number) => eventually(() => stub.seen.length > before, { timeout: 2000, what: 'the other request' })
    const [p, o] = [w.product.seen.length, w.order.seen.length]
    w.product.answers(async () => (await arrived(w.order, o), Response.json(product)))
    w.order.answers(async (seen) => (await arrived(w.product, p), ordersOf(3)(seen)))
    const res = await w.api.as(staff).get(`/order-summary/${productId}`, { 'x-correlation-id': 'summary-1' })
    expect(res.status).toBe(200)
    for (const sent of [w.product.last(), w.order.last()]) {
      expect(sent.headers.get('authorization')).toBe(`Bearer ${staff}`)
      expect(sent.headers.get('x-request-id')).toBe('summary-1')
    }
    expect(w.product.last().path).toBe(`/products/${productId}`)
  })

  it("when a page is asked with limit and cursor, then order gets them as its own list takes them, and the page's cursor comes back", async () => {
    const res = await summary(`?limit=2&cursor=${orderNo(0)}`)
    expect(w.order.seen.some((s) => s.path === `/orders/product/${productId}?limit=2&cursor=${orderNo(0)}`)).toBe(true)
    expect(res.body.orders.map((o: { id: string }) => o.id)).toEqual([orderNo(1), orderNo(2)])
    expect(res.body.nextCursor).toBe(null)
    expect(res.body.totalOrders).toBe(3)
  })

  it("when the product has more orders than one page, then totalOrders is the page's total and order is asked for that page alone", async () => {
    w.order.answers(ordersOf(250))
    const before = w.order.seen.length
    const res = await summary('?limit=20')
    expectJson(res, 200, OrderSummary)
    expect(res.body.orders.length).toBe(20)
    expect(res.body.nextCursor).toBe(orderNo(19))
    expect(res.body.totalOrders).toBe(250)
    expect(w.order.seen.slice(before).map((s) => new URL(s.path, 'http://o').searchParams.get('limit'))).toEqual(['20'])
  })

  it('when the product has more than 1,000 orders, then totalOrders is their count, not null, and nothing is partial', async () => {
    w.order.answers(ordersOf(1001))
    const res = await summary('?limit=100')
    expectJson(res, 200, OrderSummary)
    expect(res.body.orders.length).toBe(100)
    expect(res.body.totalOrders).toBe(1001)
    expect(res.body.partial).toBeUndefined()
    expect(res.headers.has('x-partial')).toBe(false)
  })

  it('when order answers a page without total (a release from before it, mid-rollout), then the page with totalOrders null and partial: totalOrders', async () => {
    w.order.answers(ordersOf(250, { total: false }))
    const before = w.order.seen.length
    const res = await summary('?limit=20')
    expectJson(res, 200, OrderSummary)
    expect(res.body.orders.length).toBe(20)
    expect(res.body.nextCursor).toBe(orderNo(19))
    expect([res.body.totalOrders, res.body.partial]).toEqual([null, ['totalOrders']])
    expect(res.headers.get('x-partial')).toBe('totalOrders')
    expect(w.order.seen.length - before).toBe(1)
  })

  it('when order is away or failing, then 200 with the product, orders null and partial: orders, also in X-Partial', async () => {
    for (const answer of [() => problem(503, 'database away', { 'retry-after': '2' }), () => new Response('<html>bad gateway</html>', { status: 502 }), () => Response.json({ not: 'a page' })]) {
      w.order.answers(answer)
      const res = await summary()
      expectJson(res, 200, OrderSummary)
      expect(res.body).toEqual({
        product: { id: productId, name: 'Coffee beans', price: '19.99', currentStock: 8 },
        orders: null,
        nextCursor: null,
        totalOrders: null,
        partial: ['orders'],
      })
      expect(res.headers.get('x-partial')).toBe('orders')
    }
  })

  it('when the product is unknown, then a 404 problem', async () => {
    w.product.answers(() => problem(404, 'not found'))
    expectProblem(await summary(), 404)
  })

  it('when product is failing, then a 503 problem with its Retry-After', async () => {
    w.product.answers(() => problem(503, 'database away', { 'retry-after': '4' }))
    const res = await summary()
    expectProblem(res, 503)
    expect(res.headers.get('retry-after')).toBe('4')
  })

  it('when the token lacks orders:read, then 403 at the door, and neither service is asked', async () => {
    const before = w.product.seen.length + w.order.seen.length
    const customer = await mintToken({ sub: 'customer-1', scope: 'orders:write' })
    const res = await summary('', customer)
    expectProblem(res, 403)
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope')
    expect(w.product.seen.length + w.order.seen.length).toBe(before)
  })

  it("when order refuses the caller's token, then its 401 is the caller's answer, not a partial one", async () => {
    w.order.answers(() => problem(401, 'A valid bearer token is required', { 'www-authenticate': 'Bearer error="invalid_token"' }))
    const res = await summary()
    expectProblem(res, 401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
  })
})
