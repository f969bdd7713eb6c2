import type { Product } from '@shop/contracts'
import type { Cache } from '@shop/kit'

/** `GET /products/:id` goes through Redis; every write to a product forgets its entry. */
export function productCache(cache: Cache) {
  const ns = (id: string) => `product:${id}`
  return {
    /** the product's JSON text, as stored: a hit is sent without being parsed again */
    getJson: (id: string, load: () => Promise<Product | undefined>) => cache.readJson(ns(id), 'v2', load),
    forget: (id: string) => cache.invalidate(ns(id)),
  }
}

export type ProductCache = ReturnType<typeof productCache>
