import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Order } from '@shop/contracts'
import { everyOrderFinal, shopWorld, type ShopWorld } from '../worlds.ts'

let w: ShopWorld
beforeAll(async () => (w = await shopWorld()))
afterAll(() => w.stop())

/** A tiny seeded PRNG (mulberry32) so a failing run can be replayed from its seed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Fires the orders at once, waits for every accepted one to settle, checks the invariant. */
async function fire(initial: number, qtys: number[]) {
  const p = await w.product(initial)
  const replies = await Promise.all(qtys.map((qty) => w.orders.post<Order>('/orders', { productId: p.id, qty })))
  // the fast path may refuse an order up front (409) when stock is visibly gone: that is final too
  for (const r of replies) expect([201, 409]).toContain(r.status)
  const accepted = replies.filter((r) => r.status === 201).map((r) => r.body.id)
  const final = await everyOrderFinal(w.orderDb, p.id, accepted.length)
  const stock = await w.stockOf(p.id)
  const confirmedQty = final.filter((r) => r.status === 'confirmed').reduce((sum, r) => sum + r.qty, 0)
  expect(stock).toBeGreaterThanOrEqual(0)
  expect(confirmedQty + stock).toBe(initial)
  return { final, stock, refusedUpFront: replies.length - accepted.length }
}

describe('the order saga', () => {
  it('when 50 orders of 1 race for a stock of 10, then exactly 10 are confirmed and stock ends at 0', async () => {
    const { final, stock, refusedUpFront } = await fire(10, Array(50).fill(1))
    expect(final.filter((r) => r.status === 'confirmed')).toHaveLength(10)
    // the 40 others are refused: rejected by product, or up front (409) once stock was visibly gone
    expect(final.filter((r) => r.status === 'rejected').length + refusedUpFront).toBe(40)
    expect(stock).toBe(0)
  })

  for (const seed of [1, 7, 42, 2026]) {
    it(`when orders of random sizes race (seed ${seed}), then confirmed qty + stock = initial stock and none is pending`, async () => {
      const next = random(seed)
      const initial = 5 + Math.floor(next() * 40)
      const qtys = Array.from({ length: 10 + Math.floor(next() * 30) }, () => 1 + Math.floor(next() * 6))
      await fire(initial, qtys)
    })
  }
})
