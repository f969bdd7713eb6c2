import { authEnv } from './tokens.ts'

/**
 * The env of a bff in front of product and order at these URLs: it accepts this process's tokens
 * (the services behind it check them again), and its per-caller limit is raised for suites that
 * fire bursts from one address about something else (`'shipped'` keeps the default). It has no
 * database, key prefix or queue, so it needs no slice of the infrastructure.
 */
export const bffEnv = (
  { productUrl, orderUrl }: { productUrl: string; orderUrl: string },
  extra: Record<string, string> = {},
  { limits }: { limits: 'raised' | 'shipped' } = { limits: 'raised' },
): Record<string, string> => ({
  PORT: '0',
  PRODUCT_URL: productUrl,
  ORDER_URL: orderUrl,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
  ...authEnv(),
  ...(limits === 'raised' ? { RATE_LIMIT_REQUESTS: '1000000' } : {}),
  ...extra,
})
