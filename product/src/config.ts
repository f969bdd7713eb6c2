import { Type as t } from '@sinclair/typebox'
import { limitEnv, readEnv, serviceConfig, serviceEnv, type Buckets } from '@shop/kit'

/** product's rate-limit buckets (RATE_LIMIT_<NAME>): what one caller may do per window */
export const buckets = {
  reads: { default: 3000, description: 'reads per caller (sub, else IP) per window', batched: true },
  writes: { default: 300, description: 'writes per caller per window' },
} as const satisfies Buckets
export type Bucket = keyof typeof buckets

export const Config = t.Object({
  ...serviceEnv({ port: 3000, database: 'shop_product', cachePrefix: 'shop:product:' }),
  ...limitEnv(buckets),
  PRODUCT_QUEUE: t.String({ default: 'product.order-events' }),
})

export type ProductConfig = ReturnType<typeof loadConfig>

export const loadConfig = (env: Record<string, string | undefined>) => {
  const c = readEnv(Config, env)
  return serviceConfig(c, c.PRODUCT_QUEUE, buckets)
}
