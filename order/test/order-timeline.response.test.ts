import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Value } from '@sinclair/typebox/value'
import { OrderTimeline, type Order, type OrderStepKind, type OrderTimeline as Timeline } from '@shop/contracts'
import { eventOf, eventually, mintToken, publish, queueDepth } from '@shop/testkit'
import { expectJson, expectProblem } from '@shop/testkit/expect'
import { orderWorld, type OrderWorld } from './env.ts'

let w: OrderWorld
beforeAll(async () => (w = await orderWorld()))
afterAll(() => w.stop())

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
const place = async (productId: string, qty: number, headers: Record<string, string> = {}) =>
  (await w.orders.post<Order>('/orders', { productId, qty }, headers)).body

/** The order's timeline once it holds these kinds of step (in any order), checked against its contract. */
const timelineWith = (orderId: string, kinds: OrderStepKind[], client = w.orders) =>
  eventually(
    async () => {
      const res = await client.get<Timeline>(`/orders/${orderId}/timeline`)
      expectJson(res, 200, OrderTimeline)
      const have = res.body.steps.map((s) => s.kind)
      return kinds.every((k) => have.includes(k)) && res.body
    },
    { what: `the timeline of ${orderId} with ${kinds.join(', ')}` },
  )

/** Every step has a time, the times never go back, and each seq is used once. */
function expectTimed(timeline: Timeline) {
  const times = timeline.steps.map((s) => Date.parse(s.at))
  expect(times.every((t, i) => Number.isFinite(t) && (i === 0 || t >= times[i - 1]! - 5))).toBe(true) // a confirm may be stamped a hair after the answer it caused
  expect(new Set(timeline.steps.map((s) => s.seq)).size).toBe(timeline.steps.length)
}

describe('GET /orders/:id/timeline', () => {
  it('when an order is confirmed, then it reads accepted, published, stock.reserved, confirmed, with times, the request id and the trace id', async () => {
    const p = await w.product(5)
    const order = await place(p.id, 2, { 'x-request-id': 'timeline-1', traceparent: `00-${traceId}-00f067aa0ba902b7-01` })
    const timeline = await timelineWith(order.id, ['accepted', 'published', 'stock.reserved', 'confirmed'])
    expect(timeline.steps.map((s) => s.kind)).toEqual(['accepted', 'published', 'stock.reserved', 'confirmed'])
    expect(timeline).toMatchObject({ orderId: order.id, status: 'confirmed', requestId: 'timeline-1', traceId, resends: 0, retries: 0 })
    expect(timeline.steps[0]!.at).toBe(order.createdAt)
    expect(timeline.steps[1]).toMatchObject({ kind: 'published', event: 'order.created' })
    expect(timeline.steps[2]).toMatchObject({ kind: 'stock.reserved', eventId: expect.any(String) })
    expect(timeline.steps[3]!.at).toBe((await w.settled(order.id)).updatedAt)
    expectTimed(timeline)
    // what the database holds: each step in the transaction of its change, numbered in commit order
    const rows = await w.orderDb`select seq, kind from order_steps where order_id = ${order.id} order by seq`
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4])
  })

  it('when an order is rejected, then the answer and the status carry the reason', async () => {
    const p = await w.product(3)
    const order = await w.withRelayPaused(async () => {
      const placed = await place(p.id, 2)
      await w.products.patch(`/products/${p.id}`, { qty: 0 }) // the last units went elsewhere
      return placed
    })
    const timeline = await timelineWith(order.id, ['accepted', 'published', 'stock.rejected', 'rejected'])
    expect(timeline.status).toBe('rejected')
    expect(timeline.steps.map((s) => s.kind)).toEqual(['accepted', 'published', 'stock.rejected', 'rejected'])
    expect(timeline.steps.slice(2)).toMatchObject([
      { kind: 'stock.rejected', reason: 'insufficient_stock', eventId: expect.any(String) },
      { kind: 'rejected', reason: 'insufficient_stock' },
    ])
    expect(timeline.traceId).toBeNull() // placed without a traceparent, tracing off
    expectTimed(timeline)
  })

  it('when a confirmed order is cancelled, then the cancel, its order.cancelled and the stock given back follow', async () => {
    const p = await w.product(5)
    const order = await place(p.id, 2)
    await w.settled(order.id)
    expect((await w.orders.delete(`/orders/${order.id}`)).status).toBe(200)
    const timeline = await timelineWith(order.id, ['cancelled', 'stock.released'])
    expect(timeline.status).toBe('cancelled')
    expect(timeline.steps.map((s) => (s.kind === 'published' ? `published ${s.event}` : s.kind))).toEqual([
      'accepted',
      'published order.created',
      'stock.reserved',
      'confirmed',
      'cancelled',
      'published order.cancelled',
      'stock.released',
    ])
    expect(timeline.steps.at(-1)).toMatchObject({ kind: 'stock.released', qty: 2, eventId: expect.any(String) })
    expect(await w.stockOf(p.id)).toBe(5)
    expectTimed(timeline)
  })

  it('when stock.released or a stock answer arrives again, then no step is added and the repeated answer counts as a retry', async () => {
    const p = await w.product(5)
    const order = await place(p.id, 1)
    await w.settled(order.id)
    await w.orders.delete(`/orders/${order.id}`)
    const before = await timelineWith(order.id, ['stock.released', 'published'])
    const released = before.steps.find((s) => s.kind === 'stock.released')!
    const again = { ...eventOf('stock.released', { orderId: order.id, productId: p.id, qty: 1 }), eventId: (released as { eventId: string }).eventId }
    await publish({ iso: w.iso, routingKey: 'stock.released', payload: again })
    await publish({ iso: w.iso, routingKey: 'stock.reserved', payload: eventOf('stock.reserved', { orderId: order.id, productId: p.id, qty: 1 }) })
    await eventually(async () => (await w.orders.get<Timeline>(`/orders/${order.id}/timeline`)).body.retries === 1, { what: 'one retry counted' })
    await eventually(async () => (await queueDepth(w.iso, w.iso.queues.order)) === 0, { what: 'order queue drained' })
    const after = (await w.orders.get<Timeline>(`/orders/${order.id}/timeline`)).body
    expect(after.steps).toEqual(before.steps)
    expect(after.status).toBe('cancelled')
  })

  it('when an order waited past the resend delay, then the resend is a step and counted, before the answer it brought', async () => {
    const p = await w.product(5)
    const order = await w.withRelayPaused(async () => {
      const placed = await place(p.id, 1)
      await w.orderDb`delete from outbox where payload->>'orderId' = ${placed.id}` // its order.created is lost
      await w.inside().orders.resendStale({ seconds: 0, maxSeconds: 0, limit: 100 })
      return placed
    })
    const timeline = await timelineWith(order.id, ['resent', 'published', 'confirmed'])
    expect(timeline.steps.map((s) => s.kind)).toEqual(['accepted', 'resent', 'published', 'stock.reserved', 'confirmed'])
    expect(timeline.steps[1]).toMatchObject({ kind: 'resent', resend: 1 })
    expect(timeline.resends).toBe(1)
  })

  it("when a customer asks for another customer's order, then 404; their own and staff's any, 200; a malformed id, 400", async () => {
    const p = await w.product(5)
    const alice = w.orders.as(await mintToken({ sub: 'alice', scope: 'orders:write' }))
    const bob = w.orders.as(await mintToken({ sub: 'bob', scope: 'orders:write' }))
    const staff = w.orders.as(await mintToken({ sub: 'staff', scope: 'orders:read' }))
    const order = (await alice.post<Order>('/orders', { productId: p.id, qty: 1 })).body
    expectProblem(await bob.get(`/orders/${order.id}/timeline`), 404)
    expect((await timelineWith(order.id, ['accepted'], alice)).orderId).toBe(order.id)
    expect((await timelineWith(order.id, ['accepted'], staff)).orderId).toBe(order.id)
    expectProblem(await alice.get(`/orders/${crypto.randomUUID()}/timeline`), 404)
    expectProblem(await alice.get('/orders/12/timeline'), 400, 'params.id')
    expectProblem(await w.orders.as(null).get(`/orders/${order.id}/timeline`), 401)
    expect(Value.Check(OrderTimeline, (await staff.get(`/orders/${order.id}/timeline`)).body)).toBe(true)
  })
})
