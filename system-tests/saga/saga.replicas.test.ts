import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Order } from '@shop/contracts'
import { captureEvents, client, eventually } from '@shop/testkit'
import { everyOrderFinal, processWorld } from '../worlds.ts'

let w: Awaited<ReturnType<typeof processWorld>>
beforeAll(async () => (w = await processWorld({ products: 2, orders: 2 })), 60_000)
afterAll(() => w.stop())

describe('two replicas of each service', () => {
  it('when 60 orders race through both order replicas for a stock of 20, then 20 are confirmed, stock is 0, every event published once', async () => {
    const probe = await captureEvents(w.iso, ['order.created', 'stock.reserved', 'stock.rejected'])
    const products = w.productProcs.map((p) => client(p.url))
    const orders = w.orderProcs.map((p) => client(p.url))
    const { body: p } = await products[0]!.post('/products', { name: 'replicated', price: '3.00', qty: 20 })

    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => orders[i % 2]!.post<Order>('/orders', { productId: p.id, qty: 1 })))
    for (const r of replies) expect([201, 409]).toContain(r.status)
    const accepted = replies.filter((r) => r.status === 201).map((r) => r.body.id)

    const final = await everyOrderFinal(w.orderDb, p.id, accepted.length, 30_000)
    const confirmed = final.filter((r) => r.status === 'confirmed').length
    const stock = await w.stockOf(p.id)
    expect(confirmed).toBe(20)
    expect(stock).toBe(0)
    expect(confirmed + stock).toBe(20)

    // outbox relays of both replicas together published each order.created exactly once
    const created = await eventually(() => {
      const seen = probe.matching('order.created', (e) => e.productId === p.id)
      return seen.length >= accepted.length && seen
    })
    expect(new Set(created.map((c) => c.event.eventId)).size).toBe(created.length)
    expect(created.map((c) => c.event.orderId).sort()).toEqual([...accepted].sort())

    // both product replicas served reads through the same cache and see the final stock
    for (const api of products) expect((await api.get(`/products/${p.id}`)).body.qty).toBe(0)
    await probe.stop()
  }, 60_000)
})
