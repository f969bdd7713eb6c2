import { Type as t } from '@sinclair/typebox'
import { readEnv, serviceConfig, serviceEnv } from '@shop/kit'

export const Config = t.Object({
  ...serviceEnv({ port: 3000, database: 'shop_product', cachePrefix: 'shop:product:' }),
  PRODUCT_QUEUE: t.String({ default: 'product.order-events' }),
})

export type ProductConfig = ReturnType<typeof loadConfig>

export const loadConfig = (env: Record<string, string | undefined>) => {
  const c = readEnv(Config, env)
  return serviceConfig(c, c.PRODUCT_QUEUE)
}
