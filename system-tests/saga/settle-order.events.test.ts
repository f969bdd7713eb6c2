import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { OrderCancelled, OrderCreated, Order as OrderSchema, type Order } from '@shop/contracts'
import { eventOf, eventually, publish, queueDepth } from '@shop/testkit'
import { expectJson, expectProblem, expectSchema } from '@shop/testkit/expect'
import { shopWorld, type ShopWorld } from '../worlds.ts'

let w: ShopWorld
beforeAll(async () => (w = await shopWorld()))
afterAll(() => w.stop())

const place = async (productId: string, qty: number) => (await w.orders.post<Order>('/orders', { productId, qty })).body

describe('order.created -> stock.reserved | stock.rejected -> order settled', () => {
  it('when stock suffices, then the order is confirmed, stock taken, and order.created matches its contract', async () => {
    const probe = await w.capture(['order.created'])
    const p = await w.product(4)
    const order = await place(p.id, 3)
    const created = await probe.next('order.created', (e) => e.orderId === order.id)
    expectSchema(OrderCreated, created.event)
    expect(created.event).toMatchObject({ orderId: order.id, productId: p.id, qty: 3, version: 1 })
    expect((await w.settled(order.id)).status).toBe('confirmed')
    expect(await w.stockOf(p.id)).toBe(1)
    await probe.stop()
  })

  it('when stock was taken meanwhile, then the order is rejected with the reason', async () => {
    const p = await w.product(3)
    const first = await w.withRelayPaused(async () => {
      const order = await place(p.id, 2)
      await w.products.patch(`/products/${p.id}`, { qty: 0 }) // the last units went elsewhere
      return order
    })
    const settledFirst = await w.settled(first.id)
    expect(settledFirst).toMatchObject({ status: 'rejected', rejectionReason: 'insufficient_stock' })
    expect(await w.stockOf(p.id)).toBe(0)
  })

  it('when a stock answer is repeated or contradicts a settled order, then nothing changes', async () => {
    const p = await w.product(5)
    const order = await place(p.id, 1)
    await w.settled(order.id)
    const contradicting = eventOf('stock.rejected', { orderId: order.id, productId: p.id, qty: 1, reason: 'insufficient_stock' })
    const repeated = eventOf('stock.reserved', { orderId: order.id, productId: p.id, qty: 1 })
    await publish({ iso: w.iso, routingKey: 'stock.rejected', payload: contradicting })
    await publish({ iso: w.iso, routingKey: 'stock.reserved', payload: repeated })
    // a later order's settlement and an empty queue show the consumer got past both
    const later = await place(p.id, 1)
    await w.settled(later.id)
    await eventually(async () => (await queueDepth(w.iso, w.iso.queues.order)) === 0, { what: 'order queue drained' })
    const after = (await w.orders.get<Order>(`/orders/${order.id}`)).body
    expect(after.status).toBe('confirmed')
    expect(after.updatedAt).toBe((await w.settled(order.id)).updatedAt)
    expect(await w.stockOf(p.id)).toBe(3)
  })
  it('when contradicting answers for a pending order arrive back to back, then the first decides and the second changes nothing', async () => {
    const p = await w.product(5)
    const order = await w.withRelayPaused(async () => {
      const o = await place(p.id, 1)
      await w.orderDb`delete from outbox where payload->>'orderId' = ${o.id}` // product never hears of it
      return o
    })
    // one right behind the other, so they usually reach the consumer in one batch
    await publish({ iso: w.iso, routingKey: 'stock.rejected', payload: eventOf('stock.rejected', { orderId: order.id, productId: p.id, qty: 1, reason: 'insufficient_stock' }) })
    await publish({ iso: w.iso, routingKey: 'stock.reserved', payload: eventOf('stock.reserved', { orderId: order.id, productId: p.id, qty: 1 }) })
    await eventually(async () => (await queueDepth(w.iso, w.iso.queues.order)) === 0, { what: 'order queue drained' })
    const settled = await w.settled(order.id)
    expect(settled).toMatchObject({ status: 'rejected', rejectionReason: 'insufficient_stock' })
    const [{ n }] = (await w.orderDb`select count(*)::int as n from orders where id = ${order.id} and status = 'rejected'`) as [{ n: number }]
    expect(n).toBe(1)
  })
})

describe('DELETE /orders/:id', () => {
  it('when a confirmed order is cancelled twice, then it is cancelled once and stock comes back once', async () => {
    const probe = await w.capture(['order.cancelled'])
    const p = await w.product(5)
    const order = await place(p.id, 2)
    await w.settled(order.id)
    expect(await w.stockOf(p.id)).toBe(3)
    const first = await w.orders.delete(`/orders/${order.id}`)
    const second = await w.orders.delete(`/orders/${order.id}`)
    expectJson(first, 200, OrderSchema)
    expect(first.body.status).toBe('cancelled')
    expect(second.body.status).toBe('cancelled')
    await eventually(async () => (await w.stockOf(p.id)) === 5, { what: 'stock back to 5' })
    const cancelled = await probe.next('order.cancelled', (e) => e.orderId === order.id)
    expectSchema(OrderCancelled, cancelled.event)
    expect(probe.matching('order.cancelled', (e) => e.orderId === order.id)).toHaveLength(1)
    // a further order for all 5 proves no unit was returned twice
    const all = await place(p.id, 5)
    expect((await w.settled(all.id)).status).toBe('confirmed')
    expect(await w.stockOf(p.id)).toBe(0)
    await probe.stop()
  })

  it('when the order is rejected, then a 409 problem; when unknown, a 404 problem', async () => {
    const p = await w.product(1)
    const order = await w.withRelayPaused(async () => {
      const o = await place(p.id, 1)
      await w.products.patch(`/products/${p.id}`, { qty: 0 })
      return o
    })
    expect((await w.settled(order.id)).status).toBe('rejected')
    expectProblem(await w.orders.delete(`/orders/${order.id}`), 409)
    expectProblem(await w.orders.delete(`/orders/${crypto.randomUUID()}`), 404)
  })
})
