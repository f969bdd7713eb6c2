import { connectDb, createBus, createCache, createLog, createRelay, ensureDatabase, migrate } from '@shop/kit'
import { createApp } from './app.ts'
import { productCache } from './cache.ts'
import type { ProductConfig } from './config.ts'
import { consumeOrderEvents } from './events.ts'
import { createProducts } from './products.ts'
import { createStore } from './store.ts'

/**
 * Connects everything, migrates, starts the consumer and the outbox relay, and returns the app
 * ready to be served by whichever runtime (main.ts on Bun or Deno, the harness in tests).
 */
export async function startProduct(config: ProductConfig) {
  const log = createLog('product', config.logLevel)
  await ensureDatabase(config.databaseUrl)
  const sql = connectDb(config.databaseUrl, config.dbPoolMax)
  const applied = await migrate(sql, new URL('../migrations/', import.meta.url))
  if (applied.length) log.info('migrated', { applied })
  const cache = createCache(config.redisUrl, config.cachePrefix, config.cacheTtlSeconds, log)
  const bus = createBus(config.amqpUrl, config.exchange, log, 'product')
  const store = createStore(sql)
  const products = createProducts(store, productCache(cache), log)
  const relay = createRelay(sql, bus, log)
  relay.start()
  await consumeOrderEvents(bus, products, config.queue, config.prefetch, log)
  const app = createApp({
    products,
    log,
    checks: { postgres: store.check, redis: cache.check, rabbitmq: bus.check },
  })
  return {
    app,
    log,
    relay,
    bus,
    /** Stop taking messages, let in-flight ones finish, flush the outbox batch, close. */
    async stop() {
      await bus.stopConsuming()
      await relay.stop()
      await bus.close()
      await cache.close()
      await sql.end({ timeout: 5 })
    },
  }
}

export type ProductService = Awaited<ReturnType<typeof startProduct>>
