import { Type as t } from '@sinclair/typebox'
import { httpServiceConfig, httpServiceEnv, limitEnv, readEnv, type Buckets } from '@shop/kit'

/**
 * The bff's rate-limit bucket (RATE_LIMIT_<NAME>): every request of one caller, counted in each
 * replica (the bff has no Redis); product's and order's own limits still apply behind it.
 */
export const buckets = {
  requests: { default: 6000, description: 'requests per caller (sub, else IP) per window, counted by each bff replica on its own' },
} as const satisfies Buckets
export type Bucket = keyof typeof buckets

export const Config = t.Object({
  ...httpServiceEnv({ port: 5000 }),
  ...limitEnv(buckets),
  PRODUCT_URL: t.String({ default: 'http://127.0.0.1:3000' }),
  ORDER_URL: t.String({ default: 'http://127.0.0.1:8080', description: 'where the bff finds order: it forwards `/orders…` there and reads the summary\'s orders' }),
  UPSTREAM_TIMEOUT_MS: t.Integer({
    default: 5000,
    minimum: 1,
    description: 'the longest the bff waits for product or order to begin an answer; then 503 with Retry-After. The body then flows as long as it lasts (an event stream too)',
  }),
})

export type BffConfig = ReturnType<typeof loadConfig>

export const loadConfig = (env: Record<string, string | undefined>) => {
  const c = readEnv(Config, env)
  return {
    ...httpServiceConfig(c, buckets),
    productUrl: c.PRODUCT_URL.replace(/\/$/, ''),
    orderUrl: c.ORDER_URL.replace(/\/$/, ''),
    upstreamTimeoutMs: c.UPSTREAM_TIMEOUT_MS,
  }
}
