import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Readiness, type Order } from '@shop/contracts'
import { bootInProcess, client, freePort, isolate, type Isolated } from '@shop/testkit'
import { expectJson } from '@shop/testkit/expect'
import { loadConfig as productConfig } from '@shop/product/config'
import { startProduct } from '@shop/product/start'
import { loadConfig as orderConfig } from '@shop/order/config'
import { startOrder } from '@shop/order/start'
import { everyOrderFinal, stockIn } from '../worlds.ts'

// Redis is a cache here, never the source of truth: with it gone, nothing may fail or get lost.
let iso: Isolated
let stop: () => Promise<void>
let products: ReturnType<typeof client>
let orders: ReturnType<typeof client>
beforeAll(async () => {
  iso = await isolate('noredis')
  const nowhere = `redis://127.0.0.1:${await freePort()}`
  const product = await bootInProcess(() => startProduct(productConfig(iso.env('product', { REDIS_URL: nowhere }))))
  const order = await bootInProcess(() => startOrder(orderConfig(iso.env('order', { REDIS_URL: nowhere, PRODUCT_URL: product.url }))))
  products = client(product.url)
  orders = client(order.url)
  stop = async () => {
    await order.stop()
    await product.stop()
    await iso.cleanup()
  }
})
afterAll(() => stop())

describe('when Redis is unreachable', () => {
  it('then orders are still accepted and settled, and the invariant holds', async () => {
    const { body: p } = await products.post('/products', { name: 'no cache', price: '2.00', qty: 3 })
    const replies = await Promise.all(Array.from({ length: 5 }, () => orders.post<Order>('/orders', { productId: p.id, qty: 1 })))
    const accepted = replies.filter((r) => r.status === 201)
    expect(accepted.length + replies.filter((r) => r.status === 409).length).toBe(5)
    const final = await everyOrderFinal(iso.db('order'), p.id, accepted.length)
    const confirmed = final.filter((o) => o.status === 'confirmed').length
    const qty = await stockIn(iso.db('product'), p.id)
    expect(confirmed).toBe(3)
    expect(qty).toBe(0)
  })

  it('then reads are served from PostgreSQL (X-Cache: MISS) with fresh values', async () => {
    const { body: p } = await products.post('/products', { name: 'fresh', price: '2.00', qty: 3 })
    await products.patch(`/products/${p.id}`, { qty: 9 })
    const read = await products.get(`/products/${p.id}`)
    expect(read.status).toBe(200)
    expect(read.headers.get('x-cache')).toBe('MISS')
    expect(read.body.qty).toBe(9)
    expect((await orders.get(`/orders/product/${p.id}`)).headers.get('x-cache')).toBe('MISS')
  })

  it('then /ready stays 200 (it serves from PostgreSQL), says degraded and which dependency is down, as /metrics does', async () => {
    const res = await products.get('/ready')
    expectJson(res, 200, Readiness)
    expect(res.body.status).toBe('degraded')
    expect(res.body.checks).toEqual({ postgres: 'up', redis: 'down', rabbitmq: 'up' })
    const metrics = (await products.get('/metrics')).text
    expect(metrics).toMatch(/shop_dependency_up\{[^}]*dependency="redis"[^}]*\} 0/)
    expect(metrics).toMatch(/shop_dependency_up\{[^}]*dependency="postgres"[^}]*\} 1/)
  })
})
