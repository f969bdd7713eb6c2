import { bootOn, captureEvents, client, eventually, isolate, spawnService, type Isolated, type Runtime } from '@shop/testkit'
import type { Order } from '@shop/contracts'
import { loadConfig as productConfig } from '@shop/product/config'
import { startProduct } from '@shop/product/start'
import { loadConfig as orderConfig } from '@shop/order/config'
import { startOrder } from '@shop/order/start'

/**
 * The worlds of the suites that span both services: product and order on one test file's own
 * databases, key prefixes and queues, in this process or as processes. Above both services, so
 * they may start either one from its package.
 */
export function bootOrder(iso: Isolated, productUrl: string, extra: Record<string, string> = {}, runtime: Runtime = 'bun') {
  const env = iso.env('order', { PRODUCT_URL: productUrl, ...extra })
  return bootOn(runtime, 'order', env, () => startOrder(orderConfig(env)))
}

/**
 * One test file's world: both services on their own databases, key prefixes and queues. On Bun
 * they run in this process (`orderService.service` reaches inside); on Deno as child processes.
 */
export async function shopWorld(runtime: Runtime = 'bun') {
  const iso = await isolate('shop')
  const productEnv = iso.env('product')
  const product = await bootOn(runtime, 'product', productEnv, () => startProduct(productConfig(productEnv)))
  const order = await bootOrder(iso, product.url, {}, runtime)
  const world = {
    iso,
    products: client(product.url),
    orders: client(order.url),
    productService: product,
    orderService: order,
    productDb: iso.db('product'),
    orderDb: iso.db('order'),
    /** creates a product and returns it */
    async product(qty: number, price = '10.00') {
      const res = await world.products.post('/products', { name: `p-${crypto.randomUUID().slice(0, 8)}`, price, qty })
      if (res.status !== 201) throw new Error(`could not create product: ${res.text}`)
      return res.body as { id: string; price: string; qty: number }
    },
    stockOf: (productId: string) => stockIn(world.productDb, productId),
    /** waits until the order left `pending`, and returns it */
    settled: (orderId: string, timeout = 10_000) =>
      eventually(
        async () => {
          const { body } = await world.orders.get<Order>(`/orders/${orderId}`)
          return body.status !== 'pending' && body
        },
        { timeout, what: `order ${orderId} settled` },
      ),
    /** runs `fn` while order's outbox relay is stopped: orders are accepted but not yet announced */
    async withRelayPaused<T>(fn: () => Promise<T>): Promise<T> {
      const relay = world.inside().relay
      await relay.stop()
      try {
        return await fn()
      } finally {
        relay.start()
      }
    },
    /** the in-process order service; suites that use it run on Bun only */
    inside() {
      if (!order.service) throw new Error('this suite needs the order service in-process (Bun)')
      return order.service
    },
    capture: (keys: Parameters<typeof captureEvents>[1]) => captureEvents(iso, keys),
    async stop() {
      await order.stop()
      await product.stop()
      await iso.cleanup()
    },
  }
  return world
}

export type ShopWorld = Awaited<ReturnType<typeof shopWorld>>

/**
 * Services as separate processes (as in production), several replicas of each if asked: they
 * share the run's databases, queues and cache prefix exactly as replicas in a deployment would.
 */
export async function processWorld({ products = 1, orders = 1 } = {}) {
  const iso = await isolate('procs')
  const productProcs = await Promise.all(Array.from({ length: products }, () => spawnService('product', iso.env('product'))))
  const orderEnv = (i: number) => iso.env('order', { PRODUCT_URL: productProcs[i % products]!.url })
  const orderProcs = await Promise.all(Array.from({ length: orders }, (_, i) => spawnService('order', orderEnv(i))))
  const world = {
    iso,
    productProcs,
    orderProcs,
    productDb: iso.db('product'),
    orderDb: iso.db('order'),
    spawnOrder: (i = 0) => spawnService('order', orderEnv(i)),
    stockOf: (productId: string) => stockIn(world.productDb, productId),
    async stop() {
      await Promise.all([...orderProcs, ...productProcs].map((p) => p.stop()))
      await iso.cleanup()
    },
  }
  return world
}

/** Waits until `count` orders of the product exist and none is pending; returns their status and qty. */
export const everyOrderFinal = (orderDb: ReturnType<Isolated['db']>, productId: string, count: number, timeout = 20_000) =>
  eventually(
    async () => {
      const rows = await orderDb<{ status: string; qty: number }[]>`select status, qty from orders where product_id = ${productId}`
      return rows.length === count && rows.every((r) => r.status !== 'pending') && rows
    },
    { timeout, what: `all ${count} accepted orders final` },
  )

/** A product's stock, read straight from product's database. */
export const stockIn = async (productDb: ReturnType<Isolated['db']>, productId: string) =>
  (await productDb`select qty from products where id = ${productId}`)[0]?.qty as number
