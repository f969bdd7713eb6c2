import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Value } from '@sinclair/typebox/value'
import { OrderStep, type Order } from '@shop/contracts'
import { client, eventOf, eventually, isolate, mintToken, openEventStream, publish, spawnService, type Isolated, type ServiceProcess } from '@shop/testkit'
import { expectProblem } from '@shop/testkit/expect'

// Order's event streams across replicas, as processes beside a real product: `saga` is the only
// replica that talks to RabbitMQ (it publishes every order.created and settles every order), so
// what the streams of the others show was written by another replica. `viewer` follows with
// Redis' wake-ups, `blind` without Redis at all (it polls the table).
let iso: Isolated
let product: ServiceProcess
let saga: ServiceProcess
let viewer: ServiceProcess
let blind: ServiceProcess
const PER_CALLER = 2
const noBroker = { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' }
// the inserted pending orders below have no order.created: no resend of them while this file runs
const noResend = { PENDING_RESEND_AFTER_SECONDS: '3600' }

beforeAll(async () => {
  iso = await isolate('oevents')
  product = await spawnService('product', iso.env('product'))
  const env = (extra: Record<string, string>) => iso.env('order', { PRODUCT_URL: product.url, ...noResend, ...extra })
  ;[saga, viewer, blind] = await Promise.all([
    spawnService('order', env({})),
    spawnService('order', env({ ...noBroker, ORDER_STREAMS_PER_CALLER: String(PER_CALLER) })),
    spawnService('order', env({ ...noBroker, REDIS_URL: 'redis://127.0.0.1:1' })),
  ])
}, 60_000)
afterAll(async () => {
  await Promise.all([saga, viewer, blind, product].map((p) => p?.stop()))
  await iso.cleanup()
})

const eventsOf = (replica: ServiceProcess, orderId: string, options?: Parameters<typeof openEventStream>[1]) =>
  openEventStream(`${replica.url}/orders/${orderId}/events`, options)
const newProduct = async (qty = 10) => (await client(product.url).post('/products', { name: `p-${crypto.randomUUID().slice(0, 8)}`, price: '2.00', qty })).body.id as string

/** An accepted order whose order.created never left: it stays pending until an answer is published by hand. */
async function pendingOrder(productId: string, customerId = 'operator') {
  const id = crypto.randomUUID()
  const db = iso.db('order')
  await db`insert into orders (id, product_id, customer_id, qty, unit_price, total_price, status, request_id, last_step)
           values (${id}, ${productId}, ${customerId}, 1, 2, 2, 'pending', 'r-1', 1)`
  await db`insert into order_steps (order_id, seq, kind) values (${id}, 1, 'accepted')`
  return id
}
const answer = (orderId: string, productId: string) =>
  publish({ iso, routingKey: 'stock.reserved', payload: eventOf('stock.reserved', { orderId, productId, qty: 1 }) })

describe('GET /orders/:id/events across replicas', () => {
  it('when an order placed on one replica is settled by another, then a stream on a third sees every step in order and ends at confirmed', async () => {
    const productId = await newProduct()
    const order = (await client(viewer.url).post<Order>('/orders', { productId, qty: 1 })).body
    const stream = await eventsOf(viewer, order.id)
    expect(stream.status).toBe(200)
    expect(stream.response.headers.get('content-type')).toStartWith('text/event-stream')
    await stream.finished()
    expect(stream.events.map((e) => e.event).sort()).toEqual(['accepted', 'confirmed', 'published', 'stock.reserved'])
    expect(stream.events.at(-1)!.event).toBe('confirmed')
    expect(stream.events.map((e) => Number(e.id))).toEqual([1, 2, 3, 4])
    for (const e of stream.events) {
      expect(Value.Check(OrderStep, e.data)).toBe(true)
      expect(e.data).toMatchObject({ kind: e.event, seq: Number(e.id) })
    }
  })

  it('when the stream is open before the answer, then the steps the other replica writes arrive live, with and without Redis', async () => {
    const productId = await newProduct()
    for (const replica of [viewer, blind]) {
      const orderId = await pendingOrder(productId)
      const stream = await eventsOf(replica, orderId)
      await stream.received(1)
      expect(stream.ended()).toBe(false)
      await answer(orderId, productId)
      await stream.finished()
      expect(stream.events.map((e) => `${e.id} ${e.event}`)).toEqual(['1 accepted', '2 stock.reserved', '3 confirmed'])
    }
  })

  it('when a stream resumes with Last-Event-ID, then it goes on after that step without repeating one', async () => {
    const productId = await newProduct()
    const orderId = await pendingOrder(productId)
    const first = await eventsOf(viewer, orderId)
    await first.received(1)
    await first.close() // the browser lost the connection after event 1
    await answer(orderId, productId)
    await eventually(async () => (await client(saga.url).get<Order>(`/orders/${orderId}`)).body.status === 'confirmed', { what: 'settled' })
    const resumed = await eventsOf(viewer, orderId, { lastEventId: first.events.at(-1)!.id })
    await resumed.finished()
    expect(resumed.events.map((e) => `${e.id} ${e.event}`)).toEqual(['2 stock.reserved', '3 confirmed'])
    const fromTwo = await eventsOf(blind, orderId, { lastEventId: '2' })
    await fromTwo.finished()
    expect(fromTwo.events.map((e) => e.id)).toEqual(['3'])
  })

  it('when a caller holds ORDER_STREAMS_PER_CALLER streams, then one more is a 429 problem; another caller is served; a closed one frees its place', async () => {
    const productId = await newProduct()
    const carol = await mintToken({ sub: 'carol', scope: 'orders:write' })
    const orders = await Promise.all([1, 2, 3].map(() => pendingOrder(productId, 'carol')))
    const open = await Promise.all(orders.slice(0, PER_CALLER).map((id) => eventsOf(viewer, id, { token: carol })))
    for (const s of open) expect(s.status).toBe(200)
    const refused = await eventsOf(viewer, orders[2]!, { token: carol })
    const body = await refused.text()
    expectProblem({ status: refused.status, headers: refused.response.headers, body: JSON.parse(body), text: body }, 429)
    expect(Number(refused.response.headers.get('retry-after'))).toBeGreaterThan(0)
    const staff = await eventsOf(viewer, orders[2]!, { token: await mintToken({ sub: 'staff', scope: 'orders:read' }) })
    expect(staff.status).toBe(200)
    expectProblem(await client(viewer.url, { token: await mintToken({ sub: 'dave', scope: 'orders:write' }) }).get(`/orders/${orders[0]}/events`), 404)
    await open[0]!.close()
    const again = await eventually(async () => {
      const s = await eventsOf(viewer, orders[2]!, { token: carol })
      if (s.status === 200) return s
      await s.text()
    }, { what: 'a place freed' })
    for (const s of [open[1]!, staff, again]) await s.close()
  })

  it('when a replica gets SIGTERM with streams open, then they end at once and it exits within its bound', async () => {
    const productId = await newProduct()
    const replica = await spawnService('order', iso.env('order', { PRODUCT_URL: product.url, ...noResend, SHUTDOWN_TIMEOUT_SECONDS: '10' }))
    const streams = await Promise.all([1, 2].map(async () => eventsOf(replica, await pendingOrder(productId))))
    await Promise.all(streams.map((s) => s.received(1)))
    const signalled = Date.now()
    const code = await replica.stop('SIGTERM')
    const took = Date.now() - signalled
    expect(code).toBe(0)
    expect(took).toBeLessThan(10_000)
    for (const s of streams) {
      await s.finished(1000)
      expect(s.events.map((e) => e.event)).toEqual(['accepted'])
    }
  }, 30_000)
})
