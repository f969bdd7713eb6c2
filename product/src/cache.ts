import type { Product } from '@shop/contracts'
import type { Cache } from '@shop/kit'

/** `GET /products/:id` goes through Redis; every write to a product forgets its entry. */
export function productCache(cache: Cache) {
  const ns = (id: string) => `product:${id}`
  return {
    get: (id: string, load: () => Promise<Product | undefined>) => cache.read(ns(id), 'v1', load),
    forget: (id: string) => cache.invalidate(ns(id)),
  }
}

export type ProductCache = ReturnType<typeof productCache>
