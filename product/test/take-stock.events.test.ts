import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { StockRejected, StockReleased, StockReserved } from '@shop/contracts'
import { captureEvents, deadLetterQueue, eventOf, eventually, publish, queueDepth } from '@shop/testkit'
import { expectSchema } from '@shop/testkit/expect'
import { newProduct, productWorldWithAnswers, type ProductWorld, type StockAnswers } from './env.ts'

let w: ProductWorld
let probe: StockAnswers
beforeAll(async () => void ({ world: w, answers: probe } = await productWorldWithAnswers()))
afterAll(() => w.stop())

const stockOf = async (id: string) => (await w.db`select qty from products where id = ${id}`)[0]?.qty as number
const created = (productId: string, qty: number, orderId: string = crypto.randomUUID()) =>
  eventOf('order.created', { orderId, productId, qty })
const outcomeOf = (orderId: string) =>
  eventually(() => probe.seen.find((c) => c.event.orderId === orderId), { what: `outcome of ${orderId}` })

describe('order.created -> take stock', () => {
  it('when an order fits the stock, then stock drops and stock.reserved carries the request id', async () => {
    const { body: p } = await w.api.post('/products', newProduct({ qty: 10 }))
    const event = created(p.id, 3)
    await publish({ iso: w.iso, routingKey: 'order.created', payload: event, headers: { 'x-request-id': 'req-take-1' } })
    const outcome = await outcomeOf(event.orderId)
    expect(outcome.routingKey).toBe('stock.reserved')
    expectSchema(StockReserved, outcome.event)
    expect(outcome.event).toMatchObject({ orderId: event.orderId, productId: p.id, qty: 3 })
    expect(outcome.headers['x-request-id']).toBe('req-take-1')
    expect(await stockOf(p.id)).toBe(7)
  })

  it('when the same event is delivered twice, then stock is taken once and every answer says the same', async () => {
    const { body: p } = await w.api.post('/products', newProduct({ qty: 10 }))
    const event = created(p.id, 4)
    await publish({ iso: w.iso, routingKey: 'order.created', payload: event })
    await publish({ iso: w.iso, routingKey: 'order.created', payload: event })
    await publish({ iso: w.iso, routingKey: 'order.created', payload: { ...event, eventId: crypto.randomUUID() } }) // same order, new event id
    await outcomeOf(event.orderId)
    await eventually(async () => (await w.db`select count(*)::int as n from reservations where order_id = ${event.orderId}`)[0]!.n === 1)
    const sentinel = created(p.id, 1)
    await publish({ iso: w.iso, routingKey: 'order.created', payload: sentinel }) // processed after the duplicates: when it is done, they are too
    await outcomeOf(sentinel.orderId)
    expect(await stockOf(p.id)).toBe(5)
    // each delivery is answered (an order whose answer was lost may ask again), always alike
    const answers = await eventually(() => probe.seen.filter((c) => c.event.orderId === event.orderId).length === 3 && probe.seen.filter((c) => c.event.orderId === event.orderId))
    expect(answers.map((a) => a.routingKey)).toEqual(['stock.reserved', 'stock.reserved', 'stock.reserved'])
  })

  it('when the stock is too low, then stock.rejected says so and stock is unchanged', async () => {
    const { body: p } = await w.api.post('/products', newProduct({ qty: 2 }))
    const event = created(p.id, 3)
    await publish({ iso: w.iso, routingKey: 'order.created', payload: event })
    const outcome = await outcomeOf(event.orderId)
    expect(outcome.routingKey).toBe('stock.rejected')
    expectSchema(StockRejected, outcome.event)
    expect(outcome.event.reason).toBe('insufficient_stock')
    expect(await stockOf(p.id)).toBe(2)
  })

  it('when the product does not exist, then stock.rejected says product_not_found', async () => {
    const event = created(crypto.randomUUID(), 1)
    await publish({ iso: w.iso, routingKey: 'order.created', payload: event })
    const outcome = await outcomeOf(event.orderId)
    expect(outcome.event).toMatchObject({ reason: 'product_not_found' })
  })

  it('when 200 orders race for a stock of 50, then exactly 50 are reserved and stock ends at 0', async () => {
    const { body: p } = await w.api.post('/products', newProduct({ qty: 50 }))
    const events = Array.from({ length: 200 }, () => created(p.id, 1))
    await Promise.all(events.map((e) => publish({ iso: w.iso, routingKey: 'order.created', payload: e })))
    const ids = new Set(events.map((e) => e.orderId))
    await eventually(() => probe.seen.filter((c) => ids.has(c.event.orderId)).length === 200, { timeout: 20_000, what: '200 outcomes' })
    const outcomes = probe.seen.filter((c) => ids.has(c.event.orderId))
    expect(outcomes.filter((c) => c.routingKey === 'stock.reserved')).toHaveLength(50)
    expect(outcomes.filter((c) => c.routingKey === 'stock.rejected')).toHaveLength(150)
    expect(await stockOf(p.id)).toBe(0)
  })

  it('when a message is poison, then it is dead-lettered and consumption goes on', async () => {
    const dlq = deadLetterQueue(w.iso, w.iso.queues.product)
    const before = await queueDepth(w.iso, dlq)
    await publish({ iso: w.iso, routingKey: 'order.created', payload: '{"not": "an order"' })
    await publish({ iso: w.iso, routingKey: 'order.created', payload: { eventId: 'x', qty: -1 } })
    await eventually(async () => (await queueDepth(w.iso, dlq)) === before + 2, { what: 'two messages in the DLQ' })
    const { body: p } = await w.api.post('/products', newProduct({ qty: 1 }))
    const event = created(p.id, 1)
    await publish({ iso: w.iso, routingKey: 'order.created', payload: event })
    expect((await outcomeOf(event.orderId)).routingKey).toBe('stock.reserved')
  })
})

describe('order.cancelled -> put stock back', () => {
  it('when a reserved order is cancelled twice, then its stock comes back once', async () => {
    const { body: p } = await w.api.post('/products', newProduct({ qty: 5 }))
    const event = created(p.id, 2)
    await publish({ iso: w.iso, routingKey: 'order.created', payload: event })
    await outcomeOf(event.orderId)
    const cancel = eventOf('order.cancelled', { orderId: event.orderId, productId: p.id, qty: 2 })
    await publish({ iso: w.iso, routingKey: 'order.cancelled', payload: cancel })
    await publish({ iso: w.iso, routingKey: 'order.cancelled', payload: { ...cancel, eventId: crypto.randomUUID() } })
    await eventually(async () => (await stockOf(p.id)) === 5, { what: 'stock back to 5' })
    await eventually(async () => (await w.db`select status from reservations where order_id = ${event.orderId}`)[0]?.status === 'released')
    // a later order still sees exactly 5
    const after = created(p.id, 5)
    await publish({ iso: w.iso, routingKey: 'order.created', payload: after })
    expect((await outcomeOf(after.orderId)).routingKey).toBe('stock.reserved')
    expect(await stockOf(p.id)).toBe(0)
  })

  it('when a reserved order is cancelled, then stock.released tells order once, with the qty given back and the request id', async () => {
    const released = await captureEvents(w.iso, ['stock.released'])
    const { body: p } = await w.api.post('/products', newProduct({ qty: 5 }))
    const event = created(p.id, 2)
    await publish({ iso: w.iso, routingKey: 'order.created', payload: event })
    await outcomeOf(event.orderId)
    const cancel = eventOf('order.cancelled', { orderId: event.orderId, productId: p.id, qty: 2 })
    await publish({ iso: w.iso, routingKey: 'order.cancelled', payload: cancel, headers: { 'x-request-id': 'req-cancel-1' } })
    await publish({ iso: w.iso, routingKey: 'order.cancelled', payload: { ...cancel, eventId: crypto.randomUUID() } })
    const told = await released.next('stock.released', (e) => e.orderId === event.orderId)
    expectSchema(StockReleased, told.event)
    expect(told.event).toMatchObject({ orderId: event.orderId, productId: p.id, qty: 2 })
    expect(told.headers['x-request-id']).toBe('req-cancel-1')
    // a later order proves both cancels were handled: the second gave nothing back and told nobody
    const after = created(p.id, 5)
    await publish({ iso: w.iso, routingKey: 'order.created', payload: after })
    expect((await outcomeOf(after.orderId)).routingKey).toBe('stock.reserved')
    expect(released.matching('stock.released', (e) => e.orderId === event.orderId)).toHaveLength(1)
    await released.stop()
  })
})
