import { Type as t } from '@sinclair/typebox'
import { readEnv, serviceConfig, serviceEnv } from '@shop/kit'

export const Config = t.Object({
  ...serviceEnv({ port: 8080, database: 'shop_order', cachePrefix: 'shop:order:' }),
  ORDER_QUEUE: t.String({ default: 'order.stock-events' }),
  PRODUCT_URL: t.String({ default: 'http://127.0.0.1:3000' }),
  PRODUCT_TIMEOUT_MS: t.Integer({ default: 2000, minimum: 1 }),
  IDEMPOTENCY_TTL_HOURS: t.Integer({ default: 24, minimum: 1 }),
  PENDING_RESEND_AFTER_SECONDS: t.Integer({ default: 60, minimum: 1, description: 'a pending order older than this asks product again' }),
})

export type OrderConfig = ReturnType<typeof loadConfig>

export const loadConfig = (env: Record<string, string | undefined>) => {
  const c = readEnv(Config, env)
  return {
    ...serviceConfig(c, c.ORDER_QUEUE),
    productUrl: c.PRODUCT_URL.replace(/\/$/, ''),
    productTimeoutMs: c.PRODUCT_TIMEOUT_MS,
    idempotencyTtlHours: c.IDEMPOTENCY_TTL_HOURS,
    pendingResendAfterSeconds: c.PENDING_RESEND_AFTER_SECONDS,
  }
}
