/**
 * What every suite that places orders needs around a running order service and a product:
 * clients for both, their databases, a product made to order, an order awaited until it settles,
 * the relay paused, the events captured. order/test's world and the system tests' both build
 * theirs with it; they differ only in how product runs.
 */
import type { Order } from '@shop/contracts'
import { captureEvents } from './events.ts'
import { client } from './http.ts'
import type { Isolated } from './isolate.ts'
import { eventually } from './wait.ts'

type Stoppable = { url: string; stop(): Promise<unknown> }
/** the part of an in-process order service these helpers reach into */
type OrderInside = { relay: { stop(): Promise<void>; start(): void } }

export function shopWorldAround<O extends OrderInside>({ iso, product, order }: { iso: Isolated; product: Stoppable; order: Stoppable & { service: O | undefined } }) {
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
    /** a product's stock, read straight from product's database */
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
    inside(): O {
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

/** A product's stock, read straight from product's database. */
export const stockIn = async (productDb: ReturnType<Isolated['db']>, productId: string) =>
  (await productDb`select qty from products where id = ${productId}`)[0]?.qty as number
