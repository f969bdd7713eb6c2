/**
 * The apps of product, order and the bff with nothing connected behind them: what reads only
 * their route tables (the OpenAPI documents for `bun run generate:clients`, the docs' route
 * checks) builds them here. Any call that would reach a store or a service fails.
 */
import { Events, Scopes, ServiceScopes } from '@shop/contracts'
import { access, createVerifier } from '@shop/kit/security'
import { eventCatalog, type AppPlatform } from '@shop/kit'
import { createLog, createMetrics, createTracing } from '@shop/kit/observability'
import type { LimitSettings } from '@shop/kit/service'
import { createApp as productApp } from '@shop/product/app'
import { createApp as orderApp } from '@shop/order/app'
import { createApp as bffApp } from '@shop/bff/app'

export function routeApps(name: string) {
  const log = createLog(name, 'silent')
  const limits = { windowSeconds: 60, perWindow: { services: 1 }, batched: [], authFailures: 1 } as unknown as LimitSettings<never>
  // (the OpenAPI document is all they read: no events needed)
  const vocabulary = { scopes: Scopes, serviceScopes: ServiceScopes, events: eventCatalog(Events, { sends: [], receives: [] }) }
  const platform = <B extends string>(): AppPlatform<B> => ({
    log,
    checks: {} as AppPlatform['checks'],
    health: { failing: () => undefined, consumers: () => ({}) },
    vocabulary,
    exchange: 'shop.events',
    http: { auth: 'on', maxBodyBytes: 65_536, metrics: true },
    access: access({
      verify: createVerifier({ enabled: false } as never, { scopes: [] }),
      counts: { count: async () => undefined },
      limits: limits as LimitSettings<B>,
      log,
      clientOf: () => 'unknown',
    }),
    clientOf: () => 'unknown',
    tracing: createTracing({ serviceName: name, sampler: 'always_off', scheduleDelayMs: 5000 }),
    metrics: createMetrics(name),
  })
  return {
    product: productApp({} as never, platform(), 'q'),
    order: orderApp({ orders: {} as never, saga: {} as never, streams: {} as never, platform: platform(), queue: 'q' }),
    // the bff's own routes, and its forwarding ones: what it forwards is documented by product and order
    bff: bffApp({ summarize: {} as never, forwarder: {} as never, product: {} as never, order: {} as never, platform: { ...platform(), health: { required: [] } } as never }),
  }
}
