import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Order, OrderSummary, Product } from '@shop/contracts'
import { expectJson } from '@shop/testkit/expect'
import { captureEvents, client, eventually, mintToken } from '@shop/testkit'
import { frontDoorWorld, type FrontDoorWorld } from './world.ts'

// The seed system's README, its four requests against its BFF on :5000, sent to this bff as they
// were written, with a bearer token added and nothing else changed (`price` a JSON number), and
// the seed's x-correlation-id on each: product and order answer through the bff, as the seed's
// clients expect.
let w: FrontDoorWorld
let staff: ReturnType<typeof client>
let customer: ReturnType<typeof client>
beforeAll(async () => {
  w = await frontDoorWorld('seed')
  staff = client(w.bff.url, { token: await mintToken({ sub: 'staff-1', scope: 'products:write orders:read' }) })
  customer = client(w.bff.url, { token: await mintToken({ sub: 'customer-1', scope: 'orders:write' }) })
}, 60_000)
afterAll(() => w.stop())

describe("the seed's four requests, through the bff", () => {
  it('when they are sent in order, then each answers as the seed did, and the summary shows the order confirmed', async () => {
    const events = await captureEvents(w.iso, ['order.created'])
    const corr = (n: number) => ({ 'x-correlation-id': `seed-${n}-${crypto.randomUUID().slice(0, 8)}` })

    // 1. POST /products {name, price, qty}
    const c1 = corr(1)
    const created = await staff.post('/products', { name: 'Seed coffee', price: 12.5, qty: 10 }, c1)
    expectJson(created, 201, Product)
    expect(created.body).toMatchObject({ name: 'Seed coffee', price: '12.50', qty: 10 })
    expect(created.headers.get('location')).toBe(`/products/${created.body.id}`)
    expect(created.headers.get('x-correlation-id')).toBe(c1['x-correlation-id'])
    const productId = created.body.id as string

    // 2. GET /products/:id
    const read = await staff.get(`/products/${productId}`, corr(2))
    expectJson(read, 200, Product)
    expect(read.body).toMatchObject({ id: productId, qty: 10 })
    expect(read.headers.get('etag')).toBe('"1"')

    // 3. POST /orders {productId, price, qty}
    const c3 = corr(3)
    const placed = await customer.post('/orders', { productId, price: 12.5, qty: 2 }, c3)
    expectJson(placed, 201, Order)
    expect(placed.body).toMatchObject({ productId, qty: 2, unitPrice: '12.50', totalPrice: '25.00', status: 'pending', customerId: 'customer-1' })
    expect(placed.headers.get('location')).toBe(`/orders/${placed.body.id}`)
    expect(placed.headers.get('x-correlation-id')).toBe(c3['x-correlation-id'])
    // the caller's correlation id went on from the bff to order and into the event product gets
    const announced = await events.next('order.created', (e) => e.orderId === placed.body.id)
    expect(announced.headers['x-request-id']).toBe(c3['x-correlation-id'])
    await events.stop()

    // 4. GET /order-summary/:productId
    const summary = await eventually(
      async () => {
        const res = await staff.get(`/order-summary/${productId}`, corr(4))
        return res.body?.orders?.[0]?.status === 'confirmed' && res
      },
      { what: 'the summary showing the order confirmed' },
    )
    expectJson(summary, 200, OrderSummary)
    expect(summary.body).toMatchObject({
      product: { id: productId, name: 'Seed coffee', price: '12.50', currentStock: 8 },
      orders: [{ id: placed.body.id, qty: 2, status: 'confirmed' }],
      totalOrders: 1,
    })
    expect(summary.body.partial).toBeUndefined()
  })

  it('when order is away, then the summary still answers 200 with the product, and says the orders are missing', async () => {
    const { body: p } = await staff.post('/products', { name: 'Lonely', price: 1, qty: 1 })
    await w.order.stop()
    const res = await staff.get(`/order-summary/${p.id}`)
    expectJson(res, 200, OrderSummary)
    expect(res.body).toMatchObject({ product: { id: p.id, currentStock: 1 }, orders: null, totalOrders: null, partial: ['orders'] })
    expect(res.headers.get('x-partial')).toBe('orders')
    // and what goes to order is a 503 with Retry-After, from the bff
    const placed = await customer.post('/orders', { productId: p.id, qty: 1 })
    expect(placed.status).toBe(503)
    expect(Number(placed.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await client(w.bff.url).get('/ready')).body).toMatchObject({ status: 'degraded', checks: { product: 'up', order: 'down' } })
  })
})
