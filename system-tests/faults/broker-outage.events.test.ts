import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Order } from '@shop/contracts'
import { bootInProcess, client, eventually, isolate, tcpProxy, type Isolated, type Proxy } from '@shop/testkit'
import { loadConfig as productConfig } from '@shop/product/config'
import { startProduct } from '@shop/product/start'
import { loadConfig as orderConfig } from '@shop/order/config'
import { startOrder } from '@shop/order/start'
import { everyOrderFinal, stockIn } from '../worlds.ts'

// Both services reach RabbitMQ through a TCP hop this file can cut, as a broker restart would.
let iso: Isolated
let broker: Proxy
let amqpUrl: string
let productUrl: string
const stops: (() => Promise<void>)[] = []
let products: ReturnType<typeof client>
let orders: ReturnType<typeof client>

beforeAll(async () => {
  iso = await isolate('outage')
  broker = await tcpProxy(iso.infra.amqpUrl)
  amqpUrl = broker.through(iso.infra.amqpUrl)
  const product = await bootInProcess(() => startProduct(productConfig(iso.env('product', { AMQP_URL: amqpUrl }))))
  productUrl = product.url
  const order = await bootInProcess(() => startOrder(orderConfig(iso.env('order', { AMQP_URL: amqpUrl, PRODUCT_URL: product.url }))))
  stops.push(product.stop, order.stop)
  products = client(product.url)
  orders = client(order.url)
})
afterAll(async () => {
  await broker.restore().catch(() => {})
  for (const stop of stops.reverse()) await stop()
  await broker.close()
  await iso.cleanup()
})

describe('when RabbitMQ goes away and comes back', () => {
  it('then orders placed during the outage are accepted, wait, and all settle afterwards', async () => {
    const { body: p } = await products.post('/products', { name: 'outage', price: '1.00', qty: 4 })
    await broker.cut()
    const replies = await Promise.all(Array.from({ length: 6 }, () => orders.post<Order>('/orders', { productId: p.id, qty: 1 })))
    for (const r of replies) expect(r.status).toBe(201)
    const pending = await iso.db('order')`select count(*)::int as n from orders where product_id = ${p.id} and status = 'pending'`
    expect(pending[0]!.n).toBe(6)

    await broker.restore()
    const final = await everyOrderFinal(iso.db('order'), p.id, 6, 30_000)
    expect(final.filter((o) => o.status === 'confirmed')).toHaveLength(4)
    expect(final.filter((o) => o.status === 'rejected')).toHaveLength(2)
    const qty = await stockIn(iso.db('product'), p.id)
    expect(qty).toBe(0)
  }, 40_000)

  it('then a service started during the outage serves HTTP at once and consumes once the broker is back', async () => {
    await broker.cut()
    const late = await bootInProcess(() => startOrder(orderConfig(iso.env('order', { AMQP_URL: amqpUrl, PRODUCT_URL: productUrl }))))
    stops.push(late.stop)
    const api = client(late.url)
    expect((await api.get('/health')).status).toBe(200)
    // it can serve its main job (orders go to the outbox): degraded, still in its Service
    const ready = await api.get('/ready')
    expect(ready.status).toBe(200)
    expect(ready.body).toMatchObject({ status: 'degraded', checks: { postgres: 'up', rabbitmq: 'down' } })
    const { body: p } = await products.post('/products', { name: 'late', price: '1.00', qty: 1 })
    const placed = await api.post<Order>('/orders', { productId: p.id, qty: 1 })
    expect(placed.status).toBe(201)

    await broker.restore()
    await eventually(async () => (await api.get('/ready')).body.status === 'ready', { timeout: 20_000, what: 'late order service ready' })
    await everyOrderFinal(iso.db('order'), p.id, 1, 20_000)
  }, 40_000)
})
