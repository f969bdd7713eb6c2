import { connectService } from '@shop/kit'
import { createApp } from './app.ts'
import { productCache } from './cache.ts'
import type { ProductConfig } from './config.ts'
import { consumeOrderEvents } from './events.ts'
import { createProducts } from './products.ts'
import { spec } from './spec.ts'
import { createStore } from './store.ts'

/**
 * Connects, migrates, starts the consumer and the outbox relay, and returns the app ready to be
 * served by whichever runtime (main.ts on Bun or Deno, the harness in tests).
 */
export async function startProduct(config: ProductConfig) {
  const base = await connectService(spec, config, new URL('../migrations/', import.meta.url))
  const cache = productCache(base.cache)
  const products = createProducts(createStore(base.sql, base.outbox), cache, base.log)
  // message handlers write through their own pool, into the same outbox
  const productsForEvents = createProducts(createStore(base.eventsSql, base.outbox.on(base.eventsSql)), cache, base.log)
  await base.consumersRunning(consumeOrderEvents({ bus: base.bus, products: productsForEvents, queue: config.queue, prefetch: config.prefetch }))
  return { ...base, app: createApp(products, base, config.queue) }
}
