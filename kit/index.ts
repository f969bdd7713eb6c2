/**
 * @shop/kit: the runtime every service stands on, by concern (one folder each, its index.ts the
 * folder's face). This file is what a service may use; a test of one part imports that part's
 * face, `@shop/kit/<folder>`. The layout suite fails when a service imports anything else.
 */
export {
  connectHttpService,
  connectService,
  httpServiceConfig,
  httpServiceEnv,
  migrateOnly,
  serviceApp,
  limitEnv,
  readEnv,
  serviceConfig,
  serviceEnv,
} from './service/index.ts'
export type { AppPlatform, Buckets, HttpPlatform, HttpServiceManifest, ServiceManifest } from './service/index.ts'
export { conflict, DomainError, notFound, preconditionFailed, unavailable, cents, toMoney } from './core/index.ts'
export { failedToStart, requestId, serve } from './http/index.ts'
export { described, docHeader } from './api-docs/index.ts'
export type { Access, Caller, ServiceCredential } from './security/index.ts'
export { createSignals } from './cache/index.ts'
export type { Cache, Signals } from './cache/index.ts'
export { grouped, sharedPerKey, isUniqueViolation } from './data/index.ts'
export type { Outbox, OutboxEvent, OutboxStatement, Sql, Tx } from './data/index.ts'
export { eventCatalog, eventConstructor } from './messaging/index.ts'
export type { Bus } from './messaging/index.ts'
export { arrivedAt, SpanKind, traceHeaders, traceIdOf, traceIdsOf } from './observability/index.ts'
export type { Log, Metrics, Tracing } from './observability/index.ts'
