import type { OrderPage } from '@shop/contracts'
import type { Cache } from '@shop/kit'

/**
 * `GET /orders/product/:productId` pages go through Redis; any change to one of them forgets all.
 * A page is cached with its `total`, so the count is forgotten with it. The variant names that
 * shape: a release from before `total` caches `<limit>:<cursor>`, which this one never serves (nor
 * that one ours) during a rollout; the namespace, and so what forgets both, is the one they share.
 */
export function ordersCache(cache: Cache) {
  const ns = (productId: string) => `orders:product:${productId}`
  return {
    page: (productId: string, limit: number, cursor: string | undefined, load: () => Promise<OrderPage>) =>
      cache.read(ns(productId), `counted:${limit}:${cursor ?? ''}`, load),
    forget: (productId: string) => cache.invalidate(ns(productId)),
  }
}

export type OrdersCache = ReturnType<typeof ordersCache>
