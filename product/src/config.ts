import { Type as t } from '@sinclair/typebox'
import { readEnv } from '@shop/kit'

const Config = t.Object({
  PORT: t.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  DATABASE_URL: t.String({ default: 'postgres://postgres@127.0.0.1:5432/shop_product' }),
  DB_POOL_MAX: t.Integer({ default: 10, minimum: 1 }),
  REDIS_URL: t.String({ default: 'redis://127.0.0.1:6379' }),
  CACHE_PREFIX: t.String({ default: 'shop:product:' }),
  CACHE_TTL_SECONDS: t.Integer({ default: 60, minimum: 1 }),
  AMQP_URL: t.String({ default: 'amqp://guest:guest@127.0.0.1:5672' }),
  EVENTS_EXCHANGE: t.String({ default: 'shop.events' }),
  PRODUCT_QUEUE: t.String({ default: 'product.order-events' }),
  CONSUMER_PREFETCH: t.Integer({ default: 32, minimum: 1 }),
  LOG_LEVEL: t.Union([t.Literal('debug'), t.Literal('info'), t.Literal('warn'), t.Literal('error'), t.Literal('silent')], {
    default: 'info',
  }),
})

export type ProductConfig = ReturnType<typeof loadConfig>

export const loadConfig = (env: Record<string, string | undefined>) => {
  const c = readEnv(Config, env)
  return {
    port: c.PORT,
    databaseUrl: c.DATABASE_URL,
    dbPoolMax: c.DB_POOL_MAX,
    redisUrl: c.REDIS_URL,
    cachePrefix: c.CACHE_PREFIX,
    cacheTtlSeconds: c.CACHE_TTL_SECONDS,
    amqpUrl: c.AMQP_URL,
    exchange: c.EVENTS_EXCHANGE,
    queue: c.PRODUCT_QUEUE,
    prefetch: c.CONSUMER_PREFETCH,
    logLevel: c.LOG_LEVEL,
  }
}
