import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Order } from '@shop/contracts'
import { closeBrokerConnections, eventually, managementApiFor } from '@shop/testkit'
import { shopWorld, type ShopWorld } from '../worlds.ts'

let w: ShopWorld
const management = await managementApiFor(import.meta.path) // closing the broker's connections takes its management API
// the shipped resend policy: after 60 s, doubling per order up to 15 min, at most 100 per sweep
const resend = { seconds: 60, maxSeconds: 900, limit: 100 }
beforeAll(async () => (w = await shopWorld()))
afterAll(() => w.stop())

describe('the outbox', () => {
  it('when the relay is stopped, then orders are accepted and stay pending; when it starts, every one settles', async () => {
    const p = await w.product(3)
    const ids = await w.withRelayPaused(async () => {
      const replies = await Promise.all(Array.from({ length: 5 }, () => w.orders.post<Order>('/orders', { productId: p.id, qty: 1 })))
      for (const r of replies) expect(r.status).toBe(201)
      const [{ unsent }] = (await w.orderDb`select count(*)::int as unsent from outbox`) as unknown as [{ unsent: number }]
      expect(unsent).toBeGreaterThanOrEqual(5)
      const pending = await w.orderDb`select count(*)::int as n from orders where product_id = ${p.id} and status = 'pending'`
      expect(pending[0]!.n).toBe(5)
      expect(await w.stockOf(p.id)).toBe(3) // nothing reached product
      return replies.map((r) => r.body.id)
    })
    const settled = await Promise.all(ids.map((id) => w.settled(id)))
    expect(settled.filter((o) => o.status === 'confirmed')).toHaveLength(3)
    expect(settled.filter((o) => o.status === 'rejected')).toHaveLength(2)
    expect(await w.stockOf(p.id)).toBe(0)
    await eventually(async () => (await w.orderDb`select count(*)::int as n from outbox`)[0]!.n === 0)
  })

  it.skipIf(!management)('when RabbitMQ drops the connection, then the relay reconnects and nothing is lost', async () => {
    const p = await w.product(2)
    const { bus } = w.inside()
    await bus.connected()
    await w.withRelayPaused(async () => {
      const placed = await w.orders.post<Order>('/orders', { productId: p.id, qty: 1 })
      expect(placed.status).toBe(201)
      // the broker closes both services' connections, as a RabbitMQ restart would
      expect(await closeBrokerConnections(w.iso, 2)).toBeGreaterThanOrEqual(2) // product's and order's
    })
    const orders = await eventually(async () => {
      const rows = await w.orderDb`select status from orders where product_id = ${p.id}`
      return rows.length === 1 && rows[0]!.status !== 'pending' && rows
    }, { timeout: 15_000, what: 'order settled after reconnect' })
    expect(orders[0]!.status).toBe('confirmed')
  })

  it('when an order.created was lost on the way, then the order asks again and settles', async () => {
    const p = await w.product(2)
    const order = await w.withRelayPaused(async () => {
      const placed = await w.orders.post<Order>('/orders', { productId: p.id, qty: 1 })
      // the event is gone (as if it had been dead-lettered) and the order has waited 10 minutes
      await w.orderDb`delete from outbox where payload->>'orderId' = ${placed.body.id}`
      await w.orderDb`update orders set created_at = now() - interval '10 minutes' where id = ${placed.body.id}`
      return placed.body
    })
    expect(await w.inside().orders.resendStale(resend)).toBe(1)
    expect((await w.settled(order.id)).status).toBe('confirmed')
    expect(await w.stockOf(p.id)).toBe(1)
    expect(await w.inside().orders.resendStale(resend)).toBe(0) // settled orders are left alone
  })

  it('when an order was asked again and is still pending, then it is asked next after twice the wait, and never while its event is in the outbox', async () => {
    const p = await w.product(2)
    // product does not answer for now: its queue is unbound from order.created
    const ch = await w.iso.channel()
    await ch.unbindQueue(w.iso.queues.product, w.iso.exchange, 'order.created')
    try {
      const order = await w.withRelayPaused(async () => {
        const placed = (await w.orders.post<Order>('/orders', { productId: p.id, qty: 1 })).body
        await w.orderDb`update orders set created_at = now() - interval '10 minutes' where id = ${placed.id}`
        // its order.created has not left the outbox yet: asking again would only queue behind it
        expect(await w.inside().orders.resendStale(resend)).toBe(0)
        return placed
      })
      await eventually(async () => (await w.orderDb`select count(*)::int as n from outbox where payload->>'orderId' = ${order.id}`)[0]!.n === 0, {
        what: 'order.created published',
      })
      expect(await w.inside().orders.resendStale(resend)).toBe(1)
      // asked once: next after 2 x 60 s, not after 90 s
      await w.orderDb`update orders set last_asked_at = now() - interval '90 seconds' where id = ${order.id}`
      await eventually(async () => (await w.orderDb`select count(*)::int as n from outbox where payload->>'orderId' = ${order.id}`)[0]!.n === 0)
      expect(await w.inside().orders.resendStale(resend)).toBe(0)
      await w.orderDb`update orders set last_asked_at = now() - interval '130 seconds' where id = ${order.id}`
      expect(await w.inside().orders.resendStale(resend)).toBe(1)
      const [row] = await w.orderDb`select resends from orders where id = ${order.id}`
      expect(row!.resends).toBe(2)
      // never more than PENDING_RESEND_MAX_SECONDS apart, however often it was asked
      await eventually(async () => (await w.orderDb`select count(*)::int as n from outbox where payload->>'orderId' = ${order.id}`)[0]!.n === 0)
      await w.orderDb`update orders set resends = 30, last_asked_at = now() - interval '901 seconds' where id = ${order.id}`
      expect(await w.inside().orders.resendStale(resend)).toBe(1)
    } finally {
      await ch.bindQueue(w.iso.queues.product, w.iso.exchange, 'order.created')
    }
  })

  it('when product took the stock but its answer was lost, then asking again confirms the order without taking stock twice', async () => {
    const p = await w.product(5)
    const ch = await w.iso.channel()
    const placed = await w.withRelayPaused(async () => {
      const o = (await w.orders.post<Order>('/orders', { productId: p.id, qty: 2 })).body
      // stock answers go nowhere for a while: product's answer to this order is lost
      await ch.unbindQueue(w.iso.queues.order, w.iso.exchange, 'stock.reserved')
      return o
    })
    await eventually(async () => (await w.productDb`select 1 from reservations where order_id = ${placed.id}`).length === 1)
    await eventually(async () => (await w.productDb`select count(*)::int as n from outbox`)[0]!.n === 0, { what: 'answer published' })
    await ch.bindQueue(w.iso.queues.order, w.iso.exchange, 'stock.reserved')
    expect((await w.orders.get<Order>(`/orders/${placed.id}`)).body.status).toBe('pending')

    await w.orderDb`update orders set created_at = now() - interval '10 minutes' where id = ${placed.id}`
    expect(await w.inside().orders.resendStale(resend)).toBe(1)
    expect((await w.settled(placed.id)).status).toBe('confirmed')
    expect(await w.stockOf(p.id)).toBe(3)
  })
})
