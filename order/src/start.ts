import { connectService, createSignals } from '@shop/kit'
import { createApp } from './app.ts'
import { ordersCache } from './cache.ts'
import type { OrderConfig } from './config.ts'
import { consumeStockEvents } from './events.ts'
import { createOrders } from './orders.ts'
import { sagaMetrics } from './saga-metrics.ts'
import { createProductClient } from './product-client.ts'
import { manifest } from './manifest.ts'
import { appendSteps, createStore } from './store.ts'
import { orderStreams } from './streams.ts'
import { publishedStep } from './timeline.ts'

/**
 * Connects, migrates, starts the consumer and the outbox relay, and returns the app ready to be
 * served by whichever runtime (main.ts on Bun or Deno, the harness in tests).
 */
export async function startOrder(config: OrderConfig) {
  const platform = await connectService(manifest, config, new URL('../migrations/', import.meta.url))
  const signals = createSignals({ url: config.redisUrl, sentinel: config.redisSentinel, channel: `${config.cachePrefix}steps`, log: platform.log })
  const store = createStore(platform.sql, platform.outbox)
  const streams = orderStreams({ read: store.journey, signals, log: platform.log, settings: { perCaller: config.streamsPerCaller } })
  // the broker's confirm of order.created and order.cancelled is a step of their order, written
  // in the relay's transaction that removes their rows (set before the relay's first batch can
  // have been confirmed: no await since connectService)
  platform.outbox.onPublished({
    record: (tx, events) => appendSteps(tx, events.flatMap((e) => publishedStep(e) ?? [])),
    committed: (events) => streams.stepsWritten(events.flatMap((e) => publishedStep(e)?.orderId ?? [])),
  })
  // order calls product as itself; with auth on, a credential is required (see docs/security.md)
  const credential = platform.credentialFor('products:check')
  if (!credential && config.auth.enabled)
    throw new Error(
      'AUTH is on but order has no credential for its calls to product: set SERVICE_PRIVATE_JWK (bun run token -- --service-keys), or SERVICE_TOKEN_URL with SERVICE_CLIENT_ID and SERVICE_CLIENT_SECRET',
    )
  const products = createProductClient({ baseUrl: config.productUrl, timeoutMs: config.productTimeoutMs, log: platform.log, tracing: platform.tracing, credential })
  const cache = ordersCache(platform.cache)
  const saga = sagaMetrics(platform.metrics, store.countPending)
  platform.metrics.gauge('shop_order_event_streams', 'Event streams of orders (GET /orders/:id/events) open on this replica', async (g) => g.set(streams.count()))
  const shared = { products, cache, log: platform.log, saga, idempotencyTtlHours: config.idempotencyTtlHours, stepsWritten: streams.stepsWritten }
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
    streams,
    app: createApp({ orders, saga, streams, platform, queue: config.queue }),
    /** on SIGTERM, before the server closes: the open event streams end at once */
    endStreams: () => streams.endAll(),
    async stop() {
      streams.endAll()
      clearInterval(sweeper)
      clearInterval(resender)
      await platform.stop()
      await signals.close()
    },
  }
}
