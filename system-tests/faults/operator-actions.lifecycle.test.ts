import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Order } from '@shop/contracts'
import {
  captureEvents,
  client,
  consumerTimeout,
  consumersOn,
  deadLetterQueue,
  deleteQueue,
  eventOf,
  eventually,
  isolate,
  jamQueue,
  managementApiFor,
  memoryAlarm,
  publish,
  queueDepth,
  spawnService,
  tcpProxy,
  type Isolated,
  type Proxy,
  type ServiceProcess,
} from '@shop/testkit'
import { sample, scrape } from '@shop/testkit/promql'
import { everyOrderFinal, stockIn } from '../worlds.ts'

// What an operator or the broker does to running services, each against the real RabbitMQ and
// PostgreSQL, with both services as processes on their shipped defaults. Two settings differ,
// both to keep the suite short and neither about what is tested: the limits are raised (iso.env's
// default; a burst of orders from one customer is not a flood here), and a pending order asks
// product again after 2 s instead of 60 s (a deleted queue loses the messages it held, and the
// resend is what brings those orders to their end). Redis and RabbitMQ are reached through TCP
// hops this file can cut, as a restart of either would.
const management = await managementApiFor(import.meta.path) // deleting queues and counting consumers take the broker's management API
let iso: Isolated
let amqpHop: Proxy
let redisHop: Proxy
let product: ServiceProcess
let order: ServiceProcess
const env = (service: 'product' | 'order', extra: Record<string, string> = {}) =>
  iso.env(service, { AMQP_URL: amqpHop.through(iso.infra.amqpUrl), REDIS_URL: redisHop.through(iso.infra.redisUrl), PENDING_RESEND_AFTER_SECONDS: '2', ...extra })
const startProduct = () => spawnService('product', env('product'))
const startOrder = () => spawnService('order', env('order', { PRODUCT_URL: product.url }), { until: '/health' })

beforeAll(async () => {
  iso = await isolate('operator')
  amqpHop = await tcpProxy(iso.infra.amqpUrl)
  redisHop = await tcpProxy(iso.infra.redisUrl)
  product = await startProduct()
  order = await startOrder()
}, 60_000)
afterAll(async () => {
  await Promise.all([amqpHop.restore(), redisHop.restore()]).catch(() => {})
  await Promise.all([product?.stop(), order?.stop()])
  await Promise.all([amqpHop.close(), redisHop.close()])
  await iso.cleanup()
})

const ready = async (p: ServiceProcess) => (await client(p.url).get('/ready')).body
const metric = async (p: ServiceProcess, name: string) => sample((await scrape(p.url)) ?? '', name)
const deadLetters = async () =>
  (await queueDepth(iso, deadLetterQueue(iso, iso.queues.product))) + (await queueDepth(iso, deadLetterQueue(iso, iso.queues.order)))

/** SIGTERM, and how long the process took to exit, and with which code. */
async function terminate(p: ServiceProcess) {
  const began = performance.now()
  const code = await p.stop('SIGTERM')
  return { code, ms: Math.round(performance.now() - began) }
}

/** Places orders from four clients at once until `stop` resolves; every reply is kept. */
function steadyOrders(productId: string) {
  const replies: { status: number; id?: string }[] = []
  let running = true
  const api = () => client(order.url)
  const placers = Array.from({ length: 4 }, async () => {
    while (running) {
      const r = await api()
        .post<Order>('/orders', { productId, qty: 1 })
        .catch(() => ({ status: 0, body: undefined as Order | undefined }))
      replies.push({ status: r.status, id: r.body?.id })
      await Bun.sleep(20) // pacing of a steady client, not a wait for an event
    }
  })
  return {
    replies,
    async stop() {
      running = false
      await Promise.all(placers)
      return replies
    },
  }
}

describe.skipIf(!management)('when an operator deletes the queues under traffic', () => {
  it("then each service declares its queue again and consumes within seconds; every accepted order ends final, stock is taken once per confirmed order, nothing is dead-lettered", async () => {
    const stock = 150
    const p = (await client(product.url).post('/products', { name: 'deleted-queues', price: '1.00', qty: stock })).body
    const load = steadyOrders(p.id)
    await eventually(async () => load.replies.length >= 20, { what: 'orders flowing' })

    const restored: Record<string, number> = {}
    for (const [service, queue] of [['product', iso.queues.product], ['order', iso.queues.order]] as const) {
      const svc = service === 'product' ? product : order
      const before = await metric(svc, 'shop_consumer_restores_total')
      const began = performance.now()
      await deleteQueue(iso, queue)
      await eventually(async () => (await metric(svc, 'shop_consumer_restores_total')) > before, { timeout: 15_000, interval: 10, what: `${service}'s consumer restored` })
      restored[service] = Math.round(performance.now() - began)
      // and the broker agrees (its management statistics lag by up to 5 s)
      await eventually(async () => (await consumersOn(iso, queue)) === 1, { timeout: 15_000, what: `${service}'s consumer on ${queue}` })
      await eventually(async () => load.replies.length >= 20 + 20 * Object.keys(restored).length, { what: 'orders still flowing' })
    }
    const replies = await load.stop()
    console.log(`[operator] consumers back after their queue was deleted: product ${restored.product} ms, order ${restored.order} ms`)

    const accepted = replies.filter((r) => r.status === 201)
    // accepted, or refused by the synchronous check once the stock is gone; nothing else
    expect([...new Set(replies.map((r) => r.status))].filter((s) => s !== 201 && s !== 409)).toEqual([])
    const final = await everyOrderFinal(iso.db('order'), p.id, accepted.length, 60_000)
    const confirmed = final.filter((o) => o.status === 'confirmed').length
    expect(await stockIn(iso.db('product'), p.id)).toBe(stock - confirmed)
    expect(confirmed).toBe(Math.min(stock, accepted.length))
    const [taken] = await iso.db('product')<{ n: number }[]>`select count(*)::int as n from reservations where product_id = ${p.id} and status = 'reserved'`
    expect(taken!.n).toBe(confirmed) // one reservation per confirmed order, none twice
    expect(await deadLetters()).toBe(0)
    expect(await metric(product, 'shop_consumer_restores_total')).toBeGreaterThanOrEqual(1)
    expect(await metric(order, 'shop_consumer_restores_total')).toBeGreaterThanOrEqual(1)
  }, 120_000)
})

describe('when the broker closes a consumer channel that held a delivery too long', () => {
  it('then the consumer comes back on a new channel, the message is handled once when the database returns, nothing is dead-lettered; SIGTERM meanwhile ends the process cleanly', async () => {
    // a world of its own: only this message is in the queue while the channel is closed on it
    const own = await isolate('acklate')
    const start = () => spawnService('product', own.env('product'))
    const database = new URL(own.env('product').DATABASE_URL!).pathname.slice(1)
    const admin = own.db('order') // another database of the same server, so the switch survives the cut
    const dlq = () => queueDepth(own, deadLetterQueue(own, own.queues.product))
    // each close returns the message with its delivery count up by one, and the quorum queue
    // dead-letters it at ten (x-delivery-limit): the outage here lasts a few closes, as 30 min
    // closes of a real one would (docs/limits.md says what lasts longer)
    const undo = consumerTimeout(own.infra, 2000)
    let svc: ServiceProcess | undefined
    let answers: Awaited<ReturnType<typeof captureEvents>> | undefined
    try {
      // channels opened from now on get the short timeout
      svc = await start()
      answers = await captureEvents(own, ['stock.reserved', 'stock.rejected'])
      const p = (await client(svc.url).post('/products', { name: 'acked-late', price: '1.00', qty: 5 })).body
      const restoresBefore = await metric(svc, 'shop_consumer_restores_total')
      await admin.unsafe(`alter database "${database}" allow_connections false`)
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${database} and pid <> pg_backend_pid()`
      const event = eventOf('order.created', { orderId: crypto.randomUUID(), productId: p.id, qty: 2 })
      await publish({ iso: own, routingKey: 'order.created', payload: event })
      // the handler retries; the broker closes its channel after 2 s unacked; the consumer comes back
      const running = svc
      await eventually(async () => (await metric(running, 'shop_consumer_restores_total')) - restoresBefore >= 1, {
        timeout: 20_000,
        what: 'consumer restored after the broker closed its channel',
      })
      expect(await dlq()).toBe(0)

      // SIGTERM while the handler retries through the outage: the process ends by itself, cleanly
      const stopped = await terminate(svc)
      console.log(`[operator] product stopped during a database outage in ${stopped.ms} ms`)
      expect(stopped.code).toBe(0)
      await admin.unsafe(`alter database "${database}" allow_connections true`)
      svc = await start()
      await answers.next('stock.reserved', (e) => e.orderId === event.orderId)
      await eventually(async () => (await stockIn(own.db('product'), p.id)) === 3, { what: 'stock taken once' })
      expect(await dlq()).toBe(0)
    } finally {
      await admin.unsafe(`alter database "${database}" allow_connections true`)
      undo()
      await answers?.stop()
      await svc?.stop()
      await own.cleanup()
    }
  }, 120_000)
})

describe('when the broker raises a memory alarm during orders', () => {
  it('then orders are still accepted into the outbox, /ready says the broker blocks, SIGTERM ends cleanly, and all settle once the alarm clears', async () => {
    const p = (await client(product.url).post('/products', { name: 'alarm', price: '1.00', qty: 3 })).body
    const clear = memoryAlarm(iso.infra)
    let ids: string[] = []
    try {
      const orders = client(order.url)
      const first = await orders.post<Order>('/orders', { productId: p.id, qty: 1 })
      expect(first.status).toBe(201)
      // the relay's publish meets the alarm: the broker tells the connection it is blocked
      await eventually(async () => (await ready(order)).checks?.rabbitmq === 'blocked', { timeout: 20_000, what: 'order sees the broker blocking' })
      const r = await client(order.url).get('/ready')
      expect(r.status).toBe(200)
      expect(r.body.status).toBe('degraded')
      expect(await metric(order, 'shop_amqp_blocked')).toBe(1)
      const more = await Promise.all(Array.from({ length: 4 }, () => orders.post<Order>('/orders', { productId: p.id, qty: 1 })))
      for (const m of more) expect(m.status).toBe(201)
      ids = [first, ...more].map((m) => m.body.id)
      const [waiting] = await iso.db('order')<{ n: number }[]>`select count(*)::int as n from outbox`
      expect(waiting!.n).toBeGreaterThanOrEqual(4)

      const stopped = await terminate(order)
      console.log(`[operator] order stopped during a memory alarm in ${stopped.ms} ms`)
      expect(stopped.code).toBe(0)
      order = await startOrder()
    } finally {
      clear()
    }
    const final = await everyOrderFinal(iso.db('order'), p.id, ids.length, 60_000)
    expect(final.filter((o) => o.status === 'confirmed')).toHaveLength(3)
    expect(await stockIn(iso.db('product'), p.id)).toBe(0)
    await eventually(async () => (await ready(order)).status === 'ready', { what: 'order ready again' })
    expect(await metric(order, 'shop_amqp_blocked')).toBe(0)
    expect(await deadLetters()).toBe(0)
  }, 120_000)
})

describe('when Redis and RabbitMQ are both away', () => {
  it('then both services stay ready (degraded, 200), orders are accepted, SIGTERM ends cleanly, and all settle once they are back', async () => {
    const p = (await client(product.url).post('/products', { name: 'both-away', price: '1.00', qty: 2 })).body
    await Promise.all([amqpHop.cut(), redisHop.cut()])
    let ids: string[] = []
    try {
      for (const svc of [product, order]) {
        const r = await client(svc.url).get('/ready')
        expect(r.status).toBe(200)
        expect(r.body).toMatchObject({ status: 'degraded', checks: { postgres: 'up', redis: 'down', rabbitmq: 'down' } })
        expect((await client(svc.url).get('/health')).status).toBe(200)
      }
      const placed = await Promise.all(Array.from({ length: 3 }, () => client(order.url).post<Order>('/orders', { productId: p.id, qty: 1 })))
      for (const r of placed) expect(r.status).toBe(201)
      ids = placed.map((r) => r.body.id)
      for (const svc of ['product', 'order'] as const) {
        const stopped = await terminate(svc === 'product' ? product : order)
        console.log(`[operator] ${svc} stopped with Redis and RabbitMQ away in ${stopped.ms} ms`)
        expect(stopped.code).toBe(0)
      }
    } finally {
      await Promise.all([amqpHop.restore(), redisHop.restore()])
    }
    product = await startProduct()
    order = await startOrder()
    const final = await everyOrderFinal(iso.db('order'), p.id, ids.length, 60_000)
    expect(final.filter((o) => o.status === 'confirmed')).toHaveLength(2)
    expect(await deadLetters()).toBe(0)
  }, 120_000)
})

describe('when an operator declares a service queue with other arguments', () => {
  it('then the consumer shows detached in /ready and the metrics, /health holds within the restore bound, SIGTERM ends cleanly, and the consumer returns once the queue is fixed', async () => {
    const unjam = await jamQueue(iso, iso.queues.product)
    try {
      await eventually(async () => (await ready(product)).consumers?.[iso.queues.product] === 'detached', { what: 'consumer detached' })
      const r = await client(product.url).get('/ready')
      expect(r.status).toBe(200)
      expect(r.body.status).toBe('degraded')
      expect(await metric(product, 'shop_consumer_attached')).toBe(0)
      // the shipped bound (AMQP_CONSUMER_RESTORE_SECONDS, 60 s) has not passed: still alive
      expect((await client(product.url).get('/health')).status).toBe(200)
      const stopped = await terminate(product)
      console.log(`[operator] product stopped while its consumer could not attach in ${stopped.ms} ms`)
      expect(stopped.code).toBe(0)
      product = await startProduct()
    } finally {
      await unjam()
    }
    await eventually(async () => (await ready(product)).consumers?.[iso.queues.product] === 'attached', { timeout: 15_000, what: 'consumer attached again' })
    expect(await metric(product, 'shop_consumer_attached')).toBe(1)
  }, 120_000)
})
