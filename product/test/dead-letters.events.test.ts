import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { captureEvents, deadLetterQueue, eventOf, eventually, publish, queueDepth } from '@shop/testkit'
import { productWorld, type ProductWorld } from './env.ts'

// the operator's tool, run as they would run it, against this run's broker, exchange and queue
const root = fileURLToPath(new URL('../../', import.meta.url))
let w: ProductWorld
beforeAll(async () => (w = await productWorld()))
afterAll(() => w.stop())

const dlq = (...args: string[]) => {
  const run = spawnSync('bun', ['run', 'dlq', '--', ...args, '--queue', w.iso.queues.product], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, AMQP_URL: w.iso.infra.amqpUrl, EVENTS_EXCHANGE: w.iso.exchange },
  })
  expect(run.status).toBe(0)
  return run.stdout + run.stderr
}

describe('dead letters an operator can replay', () => {
  it('when a message died of a fault that is then removed, then replay moves it back and it is handled exactly once', async () => {
    const p = (await w.api.post('/products', { name: 'dlq', price: '1.00', qty: 5 })).body
    const answers = await captureEvents(w.iso, ['stock.reserved', 'stock.rejected'])
    const event = eventOf('order.created', { orderId: crypto.randomUUID(), productId: p.id, qty: 2 })

    // the fault: the table the stock take needs is missing, so every attempt fails for good
    await w.db`alter table reservations rename to reservations_away`
    try {
      await publish({ iso: w.iso, routingKey: 'order.created', payload: event, headers: { 'x-request-id': 'dlq-test' } })
      await eventually(async () => (await queueDepth(w.iso, deadLetterQueue(w.iso, w.iso.queues.product))) === 1, {
        timeout: 20_000,
        what: 'the message dead-lettered',
      })
    } finally {
      await w.db`alter table reservations_away rename to reservations`
    }

    const listed = dlq('list')
    expect(listed).toContain(event.eventId)
    expect(listed).toContain('order.created')
    expect(listed).toContain('rejected') // x-death: the consumer rejected it
    expect(listed).toContain('dlq-test')
    const shown = dlq('show', '--id', event.eventId)
    expect(JSON.parse(shown.slice(0, shown.lastIndexOf(']') + 1))[0].payload).toEqual(event)

    expect(dlq('replay')).toContain('moved 1 message')
    const reserved = await answers.next('stock.reserved', (e) => e.orderId === event.orderId)
    expect(reserved.headers['x-request-id']).toBe('dlq-test') // ids and headers kept
    await eventually(async () => (await w.db`select qty from products where id = ${p.id}`)[0]!.qty === 3, { what: 'stock taken' })
    expect(await queueDepth(w.iso, deadLetterQueue(w.iso, w.iso.queues.product))).toBe(0)

    // replaying the same message again (as a second operator might) changes nothing
    await publish({ iso: w.iso, routingKey: 'order.created', payload: event, headers: { 'x-request-id': 'dlq-test' } })
    await eventually(() => answers.matching('stock.reserved', (e) => e.orderId === event.orderId).length === 2, { what: 'the repeated answer' })
    expect((await w.db`select qty from products where id = ${p.id}`)[0]!.qty).toBe(3)
    expect((await w.db`select count(*)::int as n from reservations where order_id = ${event.orderId}`)[0]!.n).toBe(1)
    await answers.stop()
  }, 60_000)

  it('when purged, then the dead-letter queue is empty', async () => {
    await publish({ iso: w.iso, routingKey: 'order.created', payload: '{ not json' })
    await eventually(async () => (await queueDepth(w.iso, deadLetterQueue(w.iso, w.iso.queues.product))) === 1, { what: 'the poison message dead-lettered' })
    expect(dlq('purge')).toContain('dropped 1 message')
    expect(await queueDepth(w.iso, deadLetterQueue(w.iso, w.iso.queues.product))).toBe(0)
  })
})
