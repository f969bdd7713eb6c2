import { Type as t } from '@sinclair/typebox'
import { limitEnv, readEnv, serviceConfig, serviceEnv, type Buckets } from '@shop/kit'

/** order's rate-limit buckets (RATE_LIMIT_<NAME>): what one caller may do per window */
export const buckets = {
  orders: { default: 120, description: 'POST /orders (and cancellations) per customer per window' },
  reads: { default: 3000, description: 'reads per caller (sub, else IP) per window', batched: true },
} as const satisfies Buckets
export type Bucket = keyof typeof buckets

export const Config = t.Object({
  ...serviceEnv({ port: 8080, database: 'shop_order', cachePrefix: 'shop:order:' }),
  ...limitEnv(buckets),
  ORDER_QUEUE: t.String({ default: 'order.stock-events' }),
  PRODUCT_URL: t.String({ default: 'http://127.0.0.1:3000' }),
  PRODUCT_TIMEOUT_MS: t.Integer({ default: 2000, minimum: 1 }),
  IDEMPOTENCY_TTL_HOURS: t.Integer({ default: 24, minimum: 1 }),
  PENDING_RESEND_AFTER_SECONDS: t.Integer({ default: 60, minimum: 1, description: 'a pending order older than this asks product again' }),
  PENDING_RESEND_MAX_SECONDS: t.Integer({ default: 900, minimum: 1, description: 'the resend backs off per order, doubling up to this far apart' }),
  PENDING_RESEND_BATCH: t.Integer({ default: 100, minimum: 1, description: 'orders resent at most per sweep (a sweep every quarter of PENDING_RESEND_AFTER_SECONDS)' }),
  ORDER_STREAMS_PER_CALLER: t.Integer({
    default: 5,
    minimum: 1,
    description: 'event streams (GET /orders/:id/events) one caller may hold open at once on one replica; one more is answered 429',
  }),
})

export type OrderConfig = ReturnType<typeof loadConfig>

export const loadConfig = (env: Record<string, string | undefined>) => {
  const c = readEnv(Config, env)
  return {
    ...serviceConfig(c, c.ORDER_QUEUE, buckets),
    productUrl: c.PRODUCT_URL.replace(/\/$/, ''),
    productTimeoutMs: c.PRODUCT_TIMEOUT_MS,
    idempotencyTtlHours: c.IDEMPOTENCY_TTL_HOURS,
    pendingResend: { seconds: c.PENDING_RESEND_AFTER_SECONDS, maxSeconds: c.PENDING_RESEND_MAX_SECONDS, limit: c.PENDING_RESEND_BATCH },
    streamsPerCaller: c.ORDER_STREAMS_PER_CALLER,
  }
}
