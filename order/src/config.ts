import { Type as t } from '@sinclair/typebox'
import { readEnv, serviceConfig, serviceEnv } from '@shop/kit'

export const Config = t.Object({
  ...serviceEnv({ port: 8080, database: 'shop_order', cachePrefix: 'shop:order:' }),
  ORDER_QUEUE: t.String({ default: 'order.stock-events' }),
  PRODUCT_URL: t.String({ default: 'http://127.0.0.1:3000' }),
  PRODUCT_TIMEOUT_MS: t.Integer({ default: 2000, minimum: 1 }),
  IDEMPOTENCY_TTL_HOURS: t.Integer({ default: 24, minimum: 1 }),
  PENDING_RESEND_AFTER_SECONDS: t.Integer({ default: 60, minimum: 1, description: 'a pending order older than this asks product again' }),
  PENDING_RESEND_MAX_SECONDS: t.Integer({ default: 900, minimum: 1, description: 'the resend backs off per order, doubling up to this far apart' }),
  PENDING_RESEND_BATCH: t.Integer({ default: 100, minimum: 1, description: 'orders resent at most per sweep (a sweep every quarter of PENDING_RESEND_AFTER_SECONDS)' }),
})

export type OrderConfig = ReturnType<typeof loadConfig>

export const loadConfig = (env: Record<string, string | undefined>) => {
  const c = readEnv(Config, env)
  return {
    ...serviceConfig(c, c.ORDER_QUEUE),
    productUrl: c.PRODUCT_URL.replace(/\/$/, ''),
    productTimeoutMs: c.PRODUCT_TIMEOUT_MS,
    idempotencyTtlHours: c.IDEMPOTENCY_TTL_HOURS,
    pendingResend: { seconds: c.PENDING_RESEND_AFTER_SECONDS, maxSeconds: c.PENDING_RESEND_MAX_SECONDS, limit: c.PENDING_RESEND_BATCH },
  }
}
