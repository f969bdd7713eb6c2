import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { captureEvents, deadLetterQueue, eventOf, eventually, publish, queueDepth } from '@shop/testkit'
import { productWorld, type ProductWorld } from './env.ts'

// product's database refusing every new connection (`ALLOW_CONNECTIONS false`: SQLSTATE 55000,
// "database is not accepting connections") for longer than a poison message's three tries
let w: ProductWorld
beforeAll(async () => (w = await productWorld()))
afterAll(() => w.stop())

const failedAttempts = async () => {
  const text = await (await fetch(`${w.api.base}/metrics`)).text()
  return Number(/shop_messages_failed_total\{[^}]*\} (\d+)/.exec(text)?.[1] ?? 0)
}

describe('when its database refuses connections for a while', () => {
  it('then order.created is retried until it is back, handled once, and never dead-lettered', async () => {
    const p = (await w.api.post('/products', { name: 'refusing', price: '1.00', qty: 5 })).body
    const answers = await captureEvents(w.iso, ['stock.reserved', 'stock.rejected'])
    const database = new URL(w.iso.env('product').DATABASE_URL!).pathname.slice(1)
    const admin = w.iso.db('order') // another database of the same server, so the switch survives the cut
    const event = eventOf('order.created', { orderId: crypto.randomUUID(), productId: p.id, qty: 2 })
    try {
      await admin.unsafe(`alter database "${database}" allow_connections false`)
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${database} and pid <> pg_backend_pid()`
      const before = await failedAttempts()
      await publish({ iso: w.iso, routingKey: 'order.created', payload: event })
      // well past the three attempts a deterministic failure gets
      await eventually(async () => (await failedAttempts()) - before >= 6, { timeout: 20_000, what: 'six failed attempts' })
      expect(await queueDepth(w.iso, deadLetterQueue(w.iso, w.iso.queues.product))).toBe(0)
    } finally {
      await admin.unsafe(`alter database "${database}" allow_connections true`)
    }
    await answers.next('stock.reserved', (e) => e.orderId === event.orderId)
    await eventually(async () => (await w.db`select qty from products where id = ${p.id}`)[0]?.qty === 3, { what: 'stock taken once' })
    expect(await queueDepth(w.iso, deadLetterQueue(w.iso, w.iso.queues.product))).toBe(0)
    await answers.stop()
  }, 60_000)
})
