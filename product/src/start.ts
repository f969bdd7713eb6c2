import { connectService } from '@shop/kit'
import { createApp } from './app.ts'
import { productCache } from './cache.ts'
import type { ProductConfig } from './config.ts'
import { consumeOrderEvents } from './events.ts'
import { createProducts } from './products.ts'
import { manifest } from './manifest.ts'
import { createStore } from './store.ts'

/**
 * Connects, migrates, starts the consumer and the outbox relay, and returns the app ready to be
 * served by whichever runtime (main.ts on Bun or Deno, the harness in tests).
 */
export async function startProduct(config: ProductConfig) {
  const platform = await connectService(manifest, config, new URL('../migrations/', import.meta.url))
  const cache = productCache(platform.cache)
  const products = createProducts(createStore(platform.sql, platform.outbox), cache, platform.log)
  // message handlers write through their own pool, into the same outbox
  const productsForEvents = createProducts(createStore(platform.eventsSql, platform.outbox.on(platform.eventsSql)), cache, platform.log)
  await platform.consumersRunning(consumeOrderEvents({ bus: platform.bus, products: productsForEvents, queue: config.queue, prefetch: config.prefetch }))
  return { ...platform, app: createApp(products, platform, config.queue) }
}
