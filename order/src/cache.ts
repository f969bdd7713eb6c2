import type { OrderPage } from '@shop/contracts'
import type { Cache } from '@shop/kit'

/** `GET /orders/product/:productId` pages go through Redis; any change to one of them forgets all. */
export function ordersCache(cache: Cache) {
  const ns = (productId: string) => `orders:product:${productId}`
  return {
    page: (productId: string, limit: number, cursor: string | undefined, load: () => Promise<OrderPage>) =>
      cache.read(ns(productId), `${limit}:${cursor ?? ''}`, load),
    forget: (productId: string) => cache.invalidate(ns(productId)),
  }
}

export type OrdersCache = ReturnType<typeof ordersCache>
