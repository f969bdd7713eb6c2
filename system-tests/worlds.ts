import { bootOn, eventually, isolate, shopWorldAround, spawnService, stockIn, type Isolated, type Runtime } from '@shop/testkit'
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
  return { ...shopWorldAround({ iso, product, order }), productService: product }
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

export { stockIn }
