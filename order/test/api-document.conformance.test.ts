import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { bootInProcess, client, eventually, isolate, jamQueue, mintToken, spawnService, tcpProxy, type Client, type Isolated, type Proxy, type Running } from '@shop/testkit'
import { conformance } from '@shop/testkit/docs'
import { loadConfig } from '../src/config.ts'
import { startOrder } from '../src/start.ts'

// order reaches PostgreSQL through a TCP hop, so the 503 every route documents can be shown
// too; the limits are low enough for one caller to reach them
const LIMIT = 40
let iso: Isolated
let db: Proxy
let products: Client
let orders: Client
let order: Running<Awaited<ReturnType<typeof startOrder>>>
let stopProduct: () => Promise<void>
beforeAll(async () => {
  iso = await isolate('odoc')
  // a real product for order's check, as a process: order's tests never import product
  const product = await spawnService('product', iso.env('product'))
  stopProduct = async () => void (await product.stop())
  // a consumer not restored within a second fails /health, so that its 503 can be shown as well
  const env = iso.env('order', { PRODUCT_URL: product.url, RATE_LIMIT_ORDERS: String(LIMIT), RATE_LIMIT_READS: String(LIMIT), AMQP_CONSUMER_RESTORE_SECONDS: '1' })
  db = await tcpProxy(env.DATABASE_URL!)
  order = await bootInProcess(() => startOrder(loadConfig({ ...env, DATABASE_URL: db.through(env.DATABASE_URL!) })))
  products = client(product.url)
  orders = client(order.url)
})
afterAll(async () => {
  await db.restore().catch(() => {})
  await order.stop()
  await stopProduct()
  await db.close()
  await iso.cleanup()
})

const settled = (id: string) =>
  eventually(async () => (await orders.get(`/orders/${id}`)).body.status !== 'pending', { what: `order ${id} settled` })

describe("order's OpenAPI document against the server's answers", () => {
  it('when every route is called into each of its outcomes, then each answer is documented and each documented answer occurs', async () => {
    const check = conformance((await orders.get('/docs/json')).body, orders)
    const send = check.send
    const item = '/orders/{id}'
    const list = '/orders/product/{productId}'
    const timeline = '/orders/{id}/timeline'
    const events = '/orders/{id}/events'
    const p = (await products.post('/products', { name: 'documented', price: '3.00', qty: 100 })).body
    const key = { 'idempotency-key': crypto.randomUUID() }

    await send('GET', '/health', '/health')
    await send('GET', '/ready', '/ready')
    const unjam = await jamQueue(iso, iso.queues.order)
    try {
      await eventually(async () => (await orders.get('/health')).status === 503, { what: '/health failing' })
      await send('GET', '/health', '/health')
    } finally {
      await unjam()
    }
    await eventually(async () => (await orders.get('/health')).status === 200, { what: '/health ok again' })
    const placed = await send('POST', '/orders', '/orders', { body: { productId: p.id, qty: 1 }, headers: key })
    await send('POST', '/orders', '/orders', { body: { productId: p.id, qty: 1 }, headers: key }) // replayed: 201 again
    await send('POST', '/orders', '/orders', { body: { productId: p.id, qty: 2 }, headers: key }) // same key, other body
    await send('POST', '/orders', '/orders', { body: { productId: p.id, qty: 0 } })
    await send('POST', '/orders', '/orders', { body: 'qty=1', headers: { 'content-type': 'text/plain' } })
    await send('POST', '/orders', '/orders', { body: { productId: crypto.randomUUID(), qty: 1 } })
    await send('POST', '/orders', '/orders', { body: { productId: p.id, qty: 1, price: '2.00' } })
    await send('GET', item, `/orders/${placed.body.id}`)
    await send('GET', item, '/orders/nope')
    await send('GET', item, `/orders/${crypto.randomUUID()}`)
    await send('GET', list, `/orders/product/${p.id}`)
    await send('GET', list, `/orders/product/${p.id}?limit=0`)
    await settled(placed.body.id)
    await send('GET', timeline, `/orders/${placed.body.id}/timeline`)
    await send('GET', timeline, '/orders/nope/timeline')
    await send('GET', timeline, `/orders/${crypto.randomUUID()}/timeline`)
    await send('GET', events, `/orders/${placed.body.id}/events`) // settled: what exists, then the end
    await send('GET', events, '/orders/nope/events')
    await send('GET', events, `/orders/${crypto.randomUUID()}/events`)
    await send('DELETE', item, `/orders/${placed.body.id}`)
    await order.service.relay.stop() // the next order stays pending: nothing to cancel yet
    const pending = await orders.post('/orders', { productId: p.id, qty: 1 })
    await send('DELETE', item, `/orders/${pending.body.id}`)
    order.service.relay.start()
    await send('DELETE', item, '/orders/nope')
    await send('DELETE', item, `/orders/${crypto.randomUUID()}`)

    // who may do what: no token, and tokens without the scope an operation needs
    const staffOnly = await mintToken({ sub: 'staff', scope: 'products:write orders:read' })
    const customer = await mintToken({ sub: 'customer', scope: 'orders:write' })
    const productsOnly = await mintToken({ sub: 'catalog', scope: 'products:write' })
    for (const token of [null, staffOnly]) await send('POST', '/orders', '/orders', { body: { productId: p.id, qty: 1 }, token })
    await send('POST', '/orders', '/orders', { body: { productId: p.id, qty: 1, note: 'x'.repeat(70_000) } })
    for (const token of [null, productsOnly]) await send('GET', item, `/orders/${placed.body.id}`, { token })
    for (const token of [null, customer]) await send('GET', list, `/orders/product/${p.id}`, { token })
    for (const token of [null, productsOnly]) await send('GET', timeline, `/orders/${placed.body.id}/timeline`, { token })
    for (const token of [null, productsOnly]) await send('GET', events, `/orders/${placed.body.id}/events`, { token })
    for (const token of [null, staffOnly]) await send('DELETE', item, `/orders/${placed.body.id}`, { token })

    // one customer past their limits: orders (and cancels) and reads each count per window
    const flood = await mintToken({ sub: 'flood' })
    const flooded = orders.as(flood)
    for (let i = 0; i < LIMIT; i++)
      await Promise.all([flooded.get(`/orders/${crypto.randomUUID()}`), flooded.delete(`/orders/${crypto.randomUUID()}`)])
    await send('POST', '/orders', '/orders', { body: { productId: p.id, qty: 1 }, token: flood })
    await send('GET', item, `/orders/${placed.body.id}`, { token: flood })
    await send('GET', list, `/orders/product/${p.id}`, { token: flood })
    await send('GET', timeline, `/orders/${placed.body.id}/timeline`, { token: flood })
    await send('GET', events, `/orders/${placed.body.id}/events`, { token: flood })
    await send('DELETE', item, `/orders/${placed.body.id}`, { token: flood })

    await db.cut()
    try {
      await send('GET', '/ready', '/ready')
      await send('POST', '/orders', '/orders', { body: { productId: p.id, qty: 1 } })
      await send('GET', item, `/orders/${placed.body.id}`)
      await send('GET', list, `/orders/product/${crypto.randomUUID()}`) // not cached, so it asks the database
      await send('GET', timeline, `/orders/${placed.body.id}/timeline`)
      await send('GET', events, `/orders/${placed.body.id}/events`)
      await send('DELETE', item, `/orders/${placed.body.id}`)
    } finally {
      await db.restore()
    }

    expect(check.undocumented()).toEqual([])
    expect(check.neverSent()).toEqual([])
  }, 30_000)
})
