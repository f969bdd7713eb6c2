import { bootInProcess, captureEvents, client, eventually, isolate, type Isolated } from '@shop/harness'
import type { Order } from '@shop/contracts'
import { loadConfig as productConfig } from '@shop/product/config'
import { startProduct } from '@shop/product/start'
import { loadConfig as orderConfig } from '../src/config.ts'
import { startOrder } from '../src/start.ts'

export const bootOrder = (iso: Isolated, productUrl: string, extra: Record<string, string> = {}) =>
  bootInProcess(() => startOrder(orderConfig(iso.env('order', { PRODUCT_URL: productUrl, ...extra }))))

/** One test file's world: both services on their own databases, key prefixes and queues. */
export async function shopWorld() {
  const iso = await isolate('order')
  const product = await bootInProcess(() => startProduct(productConfig(iso.env('product'))))
  const order = await bootOrder(iso, product.url)
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
    stockOf: async (productId: string) => (await world.productDb`select qty from products where id = ${productId}`)[0]?.qty as number,
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
      await order.service.relay.stop()
      try {
        return await fn()
      } finally {
        order.service.relay.start()
      }
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
