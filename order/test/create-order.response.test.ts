import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Order } from '@shop/contracts'
import { expectJson, expectProblem } from '@shop/testkit/expect'
import { client, runtimes } from '@shop/testkit'
import { bootOrder, orderWorld, type OrderWorld } from './env.ts'

let w: OrderWorld

const ordersIn = async () => (await w.orderDb`select count(*)::int as n from orders`)[0]!.n as number

// the same contract, served by Bun and by Deno
describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await orderWorld(runtime)))
  afterAll(() => w.stop())

  describe('POST /orders', () => {
    it('when the product has stock, then answers 201 pending with Location and a server-computed total', async () => {
      const p = await w.product(5, '19.99')
      const res = await w.orders.post('/orders', { productId: p.id, qty: 3 })
      expectJson(res, 201, Order)
      expect(res.body).toMatchObject({ productId: p.id, qty: 3, unitPrice: '19.99', totalPrice: '59.97', status: 'pending' })
      expect(res.headers.get('location')).toBe(`/orders/${res.body.id}`)
    })

    it('when the seed client sends the current price, then the order is accepted', async () => {
      const p = await w.product(5, '0.10')
      const res = await w.orders.post('/orders', { productId: p.id, qty: 3, price: 0.1 })
      expectJson(res, 201, Order)
      expect(res.body.totalPrice).toBe('0.30')
    })

    it('when the client sends a different price, then answers a 409 problem and stores nothing', async () => {
      const p = await w.product(5, '10.00')
      const before = await ordersIn()
      expectProblem(await w.orders.post('/orders', { productId: p.id, qty: 1, price: '1.00' }), 409, 'body.price')
      expect(await ordersIn()).toBe(before)
    })

    it('when the product does not exist, then answers a 404 problem', async () => {
      expectProblem(await w.orders.post('/orders', { productId: crypto.randomUUID(), qty: 1 }), 404)
    })

    it('when the stock is already too low, then answers a 409 problem naming qty', async () => {
      const p = await w.product(2)
      expectProblem(await w.orders.post('/orders', { productId: p.id, qty: 3 }), 409, 'body.qty')
    })

    it('when product is unreachable, then answers 503 with Retry-After and stores nothing', async () => {
      const lonely = await bootOrder(w.iso, 'http://127.0.0.1:9', { PRODUCT_TIMEOUT_MS: '500' }, runtime)
      try {
        const before = await ordersIn()
        const res = await client(lonely.url).post('/orders', { productId: crypto.randomUUID(), qty: 1 })
        expectProblem(res, 503)
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
        expect(await ordersIn()).toBe(before)
      } finally {
        await lonely.stop()
      }
    })

    it('when a request id is given, then it reaches product and the order.created event', async () => {
      const probe = await w.capture(['order.created'])
      const p = await w.product(5)
      const res = await w.orders.post('/orders', { productId: p.id, qty: 1 }, { 'x-request-id': 'trace-me-7' })
      expect(res.headers.get('x-request-id')).toBe('trace-me-7')
      const [row] = await w.orderDb`select request_id from orders where id = ${res.body.id}`
      expect(row!.requestId).toBe('trace-me-7')
      const created = await probe.next('order.created', (e) => e.orderId === res.body.id)
      expect(created.headers['x-request-id']).toBe('trace-me-7')
      await probe.stop()
    })
  })

  describe('GET /orders/:id', () => {
    it('when the order exists, then answers 200 with it', async () => {
      const p = await w.product(5)
      const { body: placed } = await w.orders.post('/orders', { productId: p.id, qty: 1 })
      const res = await w.orders.get(`/orders/${placed.id}`)
      expectJson(res, 200, Order)
      expect(res.body.id).toBe(placed.id)
    })

    it('when it does not exist, then a 404 problem; when the id is malformed, a 400 naming params.id', async () => {
      expectProblem(await w.orders.get(`/orders/${crypto.randomUUID()}`), 404)
      expectProblem(await w.orders.get('/orders/12'), 400, 'params.id')
    })
  })

  describe('Idempotency-Key', () => {
    it('when a request is retried with the same key and body, then the first order comes back and no second is stored', async () => {
      const p = await w.product(5)
      const key = crypto.randomUUID()
      const first = await w.orders.post('/orders', { productId: p.id, qty: 2 }, { 'idempotency-key': key })
      const again = await Promise.all([1, 2, 3].map(() => w.orders.post('/orders', { productId: p.id, qty: 2 }, { 'idempotency-key': key })))
      expect(first.status).toBe(201)
      for (const r of again) {
        expectJson(r, 201, Order)
        expect(r.body.id).toBe(first.body.id)
        expect(r.headers.get('idempotent-replayed')).toBe('true')
      }
      const [n] = await w.orderDb`select count(*)::int as n from orders where product_id = ${p.id}`
      expect(n!.n).toBe(1)
    })

    it('when the same new key arrives several times at once among other orders, then it stores one order and the others are all stored', async () => {
      const p = await w.product(50)
      const key = crypto.randomUUID()
      // requests placed together share one insert statement: the key's duplicates must not sink the rest
      const [keyed, others] = await Promise.all([
        Promise.all([1, 2, 3, 4].map(() => w.orders.post('/orders', { productId: p.id, qty: 2 }, { 'idempotency-key': key }))),
        Promise.all([1, 2, 3, 4, 5, 6].map(() => w.orders.post('/orders', { productId: p.id, qty: 1 }))),
      ])
      for (const r of [...keyed, ...others]) expectJson(r, 201, Order)
      expect(new Set(keyed.map((r) => r.body.id)).size).toBe(1)
      expect(keyed.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(3)
      const [n] = await w.orderDb`select count(*)::int as n from orders where product_id = ${p.id}`
      expect(n!.n).toBe(1 + others.length)
    })

    it('when the key is older than 24 h, then it has expired and the request places a new order', async () => {
      const p = await w.product(5)
      const key = crypto.randomUUID()
      const first = await w.orders.post('/orders', { productId: p.id, qty: 1 }, { 'idempotency-key': key })
      await w.orderDb`update idempotency_keys set created_at = now() - interval '25 hours' where key = ${key}`
      const again = await w.orders.post('/orders', { productId: p.id, qty: 1 }, { 'idempotency-key': key })
      expect(again.status).toBe(201)
      expect(again.body.id).not.toBe(first.body.id)
      expect(again.headers.get('idempotent-replayed')).toBeNull()
    })

    it('when the same key comes with another body, then answers a 422 problem', async () => {
      const p = await w.product(5)
      const key = crypto.randomUUID()
      await w.orders.post('/orders', { productId: p.id, qty: 1 }, { 'idempotency-key': key })
      expectProblem(await w.orders.post('/orders', { productId: p.id, qty: 2 }, { 'idempotency-key': key }), 422, 'headers.idempotency-key')
    })
  })
})
