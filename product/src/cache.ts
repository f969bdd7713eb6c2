import type { Product } from '@shop/contracts'
import type { Cache } from '@shop/kit'

/**
 * `GET /products/:id` goes through Redis; every write to a product forgets its entry. The variant
 * names the shape: v2 carries `version`, so entries cached before it (v1) are never read.
 */
export function productCache(cache: Cache) {
  const ns = (id: string) => `product:${id}`
  return {
    get: (id: string, load: () => Promise<Product | undefined>) => cache.read(ns(id), 'v2', load),
    forget: (id: string) => cache.invalidate(ns(id)),
  }
}

export type ProductCache = ReturnType<typeof productCache>
