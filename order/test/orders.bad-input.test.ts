import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { expectProblem } from '@shop/testkit/expect'
import { runtimes } from '@shop/testkit'
import { orderWorld, type OrderWorld } from './env.ts'

let w: OrderWorld
let probe: Awaited<ReturnType<OrderWorld['capture']>>
let productId: string

type Case = { name: string; method?: string; path?: () => string; body?: () => unknown; raw?: string; status: number; field?: string; headers?: Record<string, string> }
const order = (over: Record<string, unknown> = {}) => () => ({ productId, qty: 1, ...over })

const cases: Case[] = [
  { name: 'missing productId', body: () => ({ qty: 1 }), status: 400, field: 'body.productId' },
  { name: 'missing qty', body: () => ({ productId }), status: 400, field: 'body.qty' },
  { name: 'productId that is not a UUID', body: order({ productId: '42' }), status: 400, field: 'body.productId' },
  { name: 'productId of the wrong type', body: order({ productId: 42 }), status: 400, field: 'body.productId' },
  { name: 'zero qty', body: order({ qty: 0 }), status: 400, field: 'body.qty' },
  { name: 'negative qty', body: order({ qty: -2 }), status: 400, field: 'body.qty' },
  { name: 'fractional qty', body: order({ qty: 1.5 }), status: 400, field: 'body.qty' },
  { name: 'qty as a string', body: order({ qty: 'one' }), status: 400, field: 'body.qty' },
  { name: 'huge qty', body: order({ qty: 1e15 }), status: 400, field: 'body.qty' },
  { name: 'negative price', body: order({ price: '-10.00' }), status: 400, field: 'body.price' },
  { name: 'price with 3 decimals', body: order({ price: 9.999 }), status: 422, field: 'body.price' },
  { name: 'price that differs from the product', body: order({ price: '9.99' }), status: 409, field: 'body.price' },
  { name: 'a client-sent total', body: order({ totalPrice: '0.01' }), status: 400, field: 'body.totalPrice' },
  { name: 'unknown product', body: order({ productId: '0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24' }), status: 404 },
  { name: 'more than the stock', body: order({ qty: 4 }), status: 409, field: 'body.qty' },
  { name: 'invalid JSON', raw: '{"productId": ', status: 400, field: 'body' },
  { name: 'wrong content type', raw: 'productId=1&qty=1', status: 415, headers: { 'content-type': 'text/plain' } },
  { name: 'empty body', raw: '', status: 400 },
  { name: 'body over MAX_BODY_BYTES', body: order({ note: 'x'.repeat(200_000) }), status: 413 },
  { name: 'unknown field', body: order({ note: 'x' }), status: 400, field: 'body.note' },
  { name: 'empty Idempotency-Key', body: order(), status: 400, field: 'headers.idempotency-key', headers: { 'idempotency-key': '' } },
  { name: 'malformed id on cancel', method: 'DELETE', path: () => '/orders/not-a-uuid', status: 400, field: 'params.id' },
]

const counts = async () => ({
  orders: (await w.orderDb`select count(*)::int as n from orders`)[0]!.n,
  outbox: (await w.orderDb`select count(*)::int as n from outbox`)[0]!.n,
})

// the same contract, served by Bun and by Deno
describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => {
    w = await orderWorld(runtime)
    probe = await w.capture(['order.created', 'order.cancelled'])
    productId = (await w.product(3, '10.00')).id
  })
  afterAll(() => w.stop())

  describe('bad input to order', () => {
    it.each(cases.map((c) => ({ c })))('when $c.name, then a 4xx problem, nothing stored, nothing published', async ({ c }) => {
      const before = await counts()
      const headers = { 'content-type': 'application/json', ...c.headers }
      const raw = c.raw ?? (c.body ? JSON.stringify(c.body()) : undefined)
      const res = await w.orders.send(c.method ?? 'POST', c.path?.() ?? '/orders', { raw, headers })
      expectProblem(res, c.status, c.field)
      expect(await counts()).toEqual(before)
    })

    it('then not one order.created or order.cancelled left the service', async () => {
      // a valid order afterwards is seen by the probe, so the probe was listening all along
      const ok = await w.orders.post('/orders', { productId, qty: 1 })
      await probe.next('order.created', (e) => e.orderId === ok.body.id)
      expect(probe.seen.map((c) => c.event.orderId)).toEqual([ok.body.id])
    })
  })
})
