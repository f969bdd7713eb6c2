import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { eventually } from '@shop/testkit'
import type { OrderCreated } from '@shop/contracts'
import { productCache } from '../src/cache.ts'
import { createProducts } from '../src/products.ts'
import type { StockRequest } from '../src/stock.ts'
import { createStore } from '../src/store.ts'
import { newProduct, productWorldWithAnswers, type ProductWorld, type StockAnswers } from './env.ts'

let w: ProductWorld
let probe: StockAnswers
beforeAll(async () => void ({ world: w, answers: probe } = await productWorldWithAnswers()))
afterAll(() => w.stop())

/** product's use case on this file's database: what its consumer calls for each order.created */
const stockTaking = () => createProducts(createStore(w.db, w.service!.outbox.on(w.db)), productCache(w.service!.cache), w.service!.log)
const created = ({ orderId, productId, qty, eventId }: StockRequest): OrderCreated => ({ eventId, occurredAt: new Date().toISOString(), version: 1, orderId, productId, qty })

/**
 * The same story on fresh products and orders: every case the stock rule knows, in an order
 * where taking them in turn matters (a later, smaller order fits where a bigger one did not).
 */
async function story() {
  const { body: hot } = await w.api.post('/products', newProduct({ qty: 5 }))
  const { body: last } = await w.api.post('/products', newProduct({ qty: 1 }))
  const order = () => crypto.randomUUID()
  const [o1, o2, o3, o4, o5, released, rejected] = [order(), order(), order(), order(), order(), order(), order()]
  await w.db`insert into reservations (order_id, event_id, product_id, qty, status, reason) values
    (${released}, ${crypto.randomUUID()}, ${hot.id}, 1, 'released', null),
    (${rejected}, ${crypto.randomUUID()}, ${hot.id}, 9, 'rejected', 'insufficient_stock')`
  const req = (orderId: string, productId: string, qty: number): StockRequest => ({ orderId, productId, qty, eventId: crypto.randomUUID() })
  const requests = [
    req(o1, hot.id, 3), // reserved, 2 left
    req(o2, hot.id, 4), // too many now
    req(o3, hot.id, 2), // fits what is left
    req(o1, hot.id, 3), // the same order again: answered, nothing taken
    req(o4, crypto.randomUUID(), 1), // no such product
    req(o5, last.id, 1), // another product's last one
    req(released, hot.id, 1), // reserved once, given back since: answered reserved, nothing taken
    req(rejected, hot.id, 9), // rejected before: answered rejected
  ]
  return { requests, products: [hot.id, last.id], orders: [o1, o2, o3, o4, o5, released, rejected] }
}

const stateOf = async (products: string[], orders: string[]) => ({
  stock: (await w.db`select qty from products where id = any(${products}::uuid[]) order by array_position(${products}::uuid[], id)`).map((r) => r.qty),
  reservations: (await w.db`select status, reason, qty from reservations where order_id = any(${orders}::uuid[]) order by array_position(${orders}::uuid[], order_id)`).map(
    (r) => `${r.status} ${r.reason ?? '-'} ${r.qty}`,
  ),
})

/** each request's answer, as routing key and reason, in request order (two answers for a repeated order) */
const answersOf = async (requests: StockRequest[]) => {
  const ids = new Set(requests.map((r) => r.orderId))
  const seen = await eventually(() => {
    const mine = probe.seen.filter((c) => ids.has(c.event.orderId))
    return mine.length === requests.length && mine
  }, { what: `${requests.length} answers` })
  const per = (orderId: string) => seen.filter((c) => c.event.orderId === orderId).map((c) => `${c.routingKey} ${c.event.reason ?? '-'}`).sort()
  return requests.map((r) => per(r.orderId))
}

describe('orders taken together', () => {
  it('when a batch is taken together, then outcomes, stock, reservations and answers are those of taking it one by one', async () => {
    const products = stockTaking()
    const alone = await story()
    const oneByOne = []
    for (const r of alone.requests) oneByOne.push(await products.takeStock(created(r), {}))
    const together = await story()
    const batched = await products.takeStockTogether(together.requests.map((r) => ({ event: created(r), headers: {} })))

    expect(oneByOne.map((o) => o.status)).toEqual(['reserved', 'rejected', 'reserved', 'duplicate', 'rejected', 'reserved', 'duplicate', 'duplicate'])
    expect(batched).toEqual(oneByOne)
    const expected = await stateOf(alone.products, alone.orders)
    expect(expected).toEqual({
      stock: [0, 0],
      reservations: ['reserved - 3', 'rejected insufficient_stock 4', 'reserved - 2', 'rejected product_not_found 1', 'reserved - 1', 'released - 1', 'rejected insufficient_stock 9'],
    })
    expect(await stateOf(together.products, together.orders)).toEqual(expected)
    expect(await answersOf(together.requests)).toEqual(await answersOf(alone.requests))
  })

  it('when two batches for the same product are taken at once, then stock never goes below zero and no order is taken twice', async () => {
    const products = stockTaking()
    const { body: p } = await w.api.post('/products', newProduct({ qty: 30 }))
    const requests = Array.from({ length: 40 }, () => ({ orderId: crypto.randomUUID(), productId: p.id, qty: 1, eventId: crypto.randomUUID() }))
    // the same 40 orders delivered to two consumers at once, in different orders
    const batch = (list: StockRequest[]) => products.takeStockTogether(list.map((r) => ({ event: created({ ...r, eventId: crypto.randomUUID() }), headers: {} })))
    const [a, b] = await Promise.all([batch(requests), batch([...requests].reverse())])
    const reserved = [...a, ...b].filter((o) => o.status === 'reserved')
    expect(reserved).toHaveLength(30)
    expect([...a, ...b].filter((o) => o.status === 'duplicate')).toHaveLength(40)
    expect((await w.db`select qty from products where id = ${p.id}`)[0]!.qty).toBe(0)
    expect((await w.db`select count(*)::int as n from reservations where product_id = ${p.id} and status = 'reserved'`)[0]!.n).toBe(30)
  })
})
