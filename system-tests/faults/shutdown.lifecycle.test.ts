import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Order } from '@shop/contracts'
import { client, eventually } from '@shop/testkit'
import { processWorld } from '../worlds.ts'

let w: Awaited<ReturnType<typeof processWorld>>
beforeAll(async () => (w = await processWorld()), 60_000)
afterAll(() => w.stop())

describe('graceful shutdown', () => {
  it('when SIGTERM arrives while orders are in flight, then every accepted order is final after a restart', async () => {
    const products = client(w.productProcs[0]!.url)
    const { body: p } = await products.post('/products', { name: 'shutdown', price: '1.00', qty: 1000 })
    const first = w.orderProcs[0]!
    const orders = client(first.url)

    const inFlight = Array.from({ length: 40 }, () => orders.post<Order>('/orders', { productId: p.id, qty: 1 }).catch(() => undefined))
    // the first orders are stored, the rest still on their way in: now the signal
    await eventually(async () => (await w.orderDb`select count(*)::int as n from orders`)[0]!.n > 0, { interval: 1 })
    const code = await first.stop('SIGTERM')
    const replies = await Promise.all(inFlight)
    expect(code).toBe(0) // it shut down cleanly, not killed
    const accepted = replies.filter((r) => r?.status === 201).map((r) => r!.body.id)
    expect(accepted.length).toBeGreaterThan(0)

    const restarted = await w.spawnOrder()
    w.orderProcs[0] = restarted
    const after = client(restarted.url)
    const final = await eventually(
      async () => {
        const states = await Promise.all(accepted.map(async (id) => (await after.get<Order>(`/orders/${id}`)).body.status))
        return states.every((s) => s === 'confirmed') && states
      },
      { timeout: 20_000, what: 'accepted orders confirmed after restart' },
    )
    expect(final).toHaveLength(accepted.length)
    const stored = await w.orderDb`select count(*)::int as n from orders where product_id = ${p.id}`
    expect(stored[0]!.n).toBe(accepted.length) // nothing half-written by the interrupted ones
    expect(await w.stockOf(p.id)).toBe(1000 - accepted.length)
  }, 60_000)
})
