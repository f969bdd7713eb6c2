import { connectService } from '@shop/kit'
import { createApp } from './app.ts'
import { ordersCache } from './cache.ts'
import type { OrderConfig } from './config.ts'
import { consumeStockEvents } from './events.ts'
import { createOrders } from './orders.ts'
import { sagaMetrics } from './saga-metrics.ts'
import { createProductClient } from './product-client.ts'
import { manifest } from './manifest.ts'
import { createStore } from './store.ts'

/**
 * Connects, migrates, starts the consumer and the outbox relay, and returns the app ready to be
 * served by whichever runtime (main.ts on Bun or Deno, the harness in tests).
 */
export async function startOrder(config: OrderConfig) {
  const platform = await connectService(manifest, config, new URL('../migrations/', import.meta.url))
  // order calls product as itself; with auth on, a credential is required (see docs/security.md)
  const credential = platform.credentialFor('products:check')
  if (!credential && config.auth.enabled)
    throw new Error(
      'AUTH is on but order has no credential for its calls to product: set SERVICE_PRIVATE_JWK (bun run token -- --service-keys), or SERVICE_TOKEN_URL with SERVICE_CLIENT_ID and SERVICE_CLIENT_SECRET',
    )
  const products = createProductClient({ baseUrl: config.productUrl, timeoutMs: config.productTimeoutMs, log: platform.log, tracing: platform.tracing, credential })
  const cache = ordersCache(platform.cache)
  const store = createStore(platform.sql, platform.outbox)
  const saga = sagaMetrics(platform.metrics, store.countPending)
  const shared = { products, cache, log: platform.log, saga, idempotencyTtlHours: config.idempotencyTtlHours }
  const orders = createOrders({ store, ...shared })
  const ordersForEvents = createOrders({ store: createStore(platform.eventsSql, platform.outbox.on(platform.eventsSql)), ...shared })
  await platform.consumersRunning(consumeStockEvents({ bus: platform.bus, orders: ordersForEvents, queue: config.queue, prefetch: config.prefetch }))
  const sweeper = setInterval(() => orders.forgetExpiredKeys().catch(() => {}), 3_600_000)
  const resender = setInterval(
    () => orders.resendStale(config.pendingResend).catch((err) => platform.log.warn('resend failed', { err: String(err) })),
    Math.max(1000, (config.pendingResend.seconds * 1000) / 4),
  )
  return {
    ...platform,
    orders,
    app: createApp({ orders, saga, platform, queue: config.queue }),
    async stop() {
      clearInterval(sweeper)
      clearInterval(resender)
      await platform.stop()
    },
  }
}
