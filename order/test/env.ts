import { bootOn, captureEvents, client, eventually, isolate, spawnService, type Isolated, type Runtime } from '@shop/testkit'
import type { Order } from '@shop/contracts'
import { loadConfig } from '../src/config.ts'
import { startOrder } from '../src/start.ts'

export function bootOrder(iso: Isolated, productUrl: string, extra: Record<string, string> = {}, runtime: Runtime = 'bun') {
  const env = iso.env('order', { PRODUCT_URL: productUrl, ...extra })
  return bootOn(runtime, 'order', env, () => startOrder(loadConfig(env)))
}

/**
 * One test file's world for order's own suites: order on its own database, key prefix and queues,
 * and beside it a real product for the check order makes and the stock answers that settle an
 * order. product runs as a process, the way production runs it (order's tests never import
 * product; the suites about both services are in system-tests/). On Bun order runs in this
 * process (`inside()` reaches it); on Deno both are child processes.
 */
export async function orderWorld(runtime: Runtime = 'bun') {
  const iso = await isolate('order')
  const product = await spawnService('product', iso.env('product'), { runtime })
  const order = await bootOrder(iso, product.url, {}, runtime).catch(async (err) => {
    await product.stop()
    throw err
  })
  const world = {
    iso,
    products: client(product.url),
    orders: client(order.url),
    orderService: order,
    productDb: iso.db('product'),
    orderDb: iso.db('order'),
    /** creates a product and returns it */
    async product(qty: number, price = '10.00') {
      const res = await world.products.post('/products', { name: `p-${crypto.randomUUID().slice(0, 8)}`, price, qty })
      if (res.status !== 201) throw new Error(`could not create product: ${res.text}`)
      return res.body as { id: string; price: string; qty: number }
    },
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

export type OrderWorld = Awaited<ReturnType<typeof orderWorld>>
