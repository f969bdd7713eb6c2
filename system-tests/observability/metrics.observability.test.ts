import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { eventually, promtoolFor } from '@shop/testkit'
import { shopWorld, type ShopWorld } from '../worlds.ts'
import { sample } from '@shop/testkit/promql'
import { PLACING_STEPS } from '@shop/order/placing-steps'

let w: ShopWorld
const promtool = promtoolFor(import.meta.path) // without it the check that runs it is skipped, and the run says so
beforeAll(async () => (w = await shopWorld()))
afterAll(() => w.stop())

const scrape = async (base: string) => {
  const res = await fetch(`${base}/metrics`)
  expect(res.headers.get('content-type')).toStartWith('text/plain')
  return res.text()
}

describe('/metrics', () => {
  it('when orders race for a small stock and one is cancelled, then the saga counters and histogram count them exactly', async () => {
    const p = await w.product(3)
    const replies = await Promise.all(Array.from({ length: 5 }, () => w.orders.post('/orders', { productId: p.id, qty: 1 })))
    const placed = replies.filter((r) => r.status === 201)
    const settled = await Promise.all(placed.map((r) => w.settled(r.body.id)))
    const confirmed = settled.filter((o) => o.status === 'confirmed')
    const rejected = settled.filter((o) => o.status === 'rejected')
    await w.orders.delete(`/orders/${confirmed[0]!.id}`)

    const text = await scrape(w.orders.base)
    expect(sample(text, 'shop_orders_placed_total')).toBe(placed.length)
    expect(sample(text, 'shop_orders_settled_total', { status: 'confirmed' })).toBe(confirmed.length)
    expect(sample(text, 'shop_orders_settled_total', { status: 'rejected', reason: 'insufficient_stock' })).toBe(rejected.length)
    expect(sample(text, 'shop_order_time_to_final_seconds_count')).toBe(placed.length)
    expect(sample(text, 'shop_orders_cancelled_total')).toBe(1)
    // where each POST /orders spent its time: every request reached the handler, only the placed went on to the end
    const steps = (suffix: string) =>
      Object.fromEntries(PLACING_STEPS.map((step) => [step, sample(text, `shop_order_placing_seconds${suffix}`, { step })]))
    expect(steps('_count')).toEqual({ access: replies.length, product_check: replies.length, insert: placed.length, cache_invalidation: placed.length })
    expect(Object.values(steps('_sum')).every((s) => s > 0)).toBe(true)
    expect(sample(text, 'shop_orders_pending')).toBe(0)
    expect(sample(text, 'http_requests_total', { method: 'POST', route: '/orders', status: '201' })).toBe(placed.length)
    expect(sample(text, 'http_requests_total', { method: 'POST', route: '/orders', status: '409' })).toBe(replies.length - placed.length)
    expect(text).not.toMatch(new RegExp(p.id)) // never an id in a label

    const product = await scrape(w.products.base)
    await eventually(async () => sample(await scrape(w.products.base), 'shop_messages_consumed_total', { event: 'order.created' }) === placed.length, {
      what: "product's consumed-message counter",
    })
    expect(sample(product, 'shop_cache_requests_total', { result: 'hit' }) + sample(product, 'shop_cache_requests_total', { result: 'miss' })).toBeGreaterThan(0)
    expect(sample(product, 'shop_dead_letter_queue_messages')).toBe(0)
    expect(sample(product, 'process_resident_memory_bytes')).toBeGreaterThan(10e6)
  })

  it.skipIf(!promtool)('when promtool checks the text of both services, then it finds nothing wrong', async () => {
    for (const base of [w.products.base, w.orders.base]) {
      const check = spawnSync(promtool!, ['check', 'metrics'], { input: await scrape(base), encoding: 'utf8' })
      expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({ status: 0, out: '' })
    }
  })
})
