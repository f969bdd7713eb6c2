/**
 * What every service is made of: `connectService` connects, migrates and wires the database,
 * Redis, the bus and the relay from the service's manifest; `serviceApp` is the HTTP app around its
 * routes.
 */
import type { TSchema } from '@sinclair/typebox'
import { Elysia, type AnyElysia } from 'elysia'
import { createBus } from '../messaging/bus.ts'
import type { EventCatalog } from '../messaging/catalog.ts'
import { createCache } from '../cache/cache.ts'
import { exactCounts } from '../security/rate-counts.ts'
import { connectRedis } from '../cache/redis.ts'
import { connectDb, openMigrated } from '../data/postgres.ts'
import type { RequestClient } from '../security/client-address.ts'
import { serviceCredential } from '../security/service-token.ts'
import { metricsPlugin, type Metrics } from '../observability/metrics.ts'
import { tracingPlugin, type Tracing } from '../observability/tracing.ts'
import { failedToStart } from '../http/serve.ts'
import { docs, type DocVocabulary, type ServiceDocs } from '../api-docs/docs.ts'
import { health, type HealthOptions } from '../http/health.ts'
import { problems, requestId } from '../http/problems.ts'
import { createLog, type Log, type LogLevel } from '../observability/log.ts'
import { createOutbox } from '../data/outbox.ts'
import type { LimitSettings, serviceConfig } from './config.ts'
import { callersOf, instrumentsOf, reportDependencies, type Checks } from './http-service.ts'

/** A service's configuration (`serviceConfig`), its rate-limit buckets named `B`. */
type Config<B extends string = string> = Omit<ReturnType<typeof serviceConfig>, 'limits'> & { limits: LimitSettings<B> }

/**
 * What a service tells the kit about itself: its name, the scopes its tokens speak (with what
 * each allows, for the API documents), the ones only services hold, what a token's `sub` must be,
 * and its event catalog (`eventCatalog`: what it sends and receives, each with its schema; the
 * bus binds and checks what it receives, the AsyncAPI document lists both).
 */
export type ServiceManifest<C extends EventCatalog = EventCatalog> = {
  name: string
  scopes: Record<string, string>
  serviceScopes?: readonly string[]
  subject?: TSchema
  events: C
}

/**
 * What every service stands on: its database (created and migrated), the Redis cache, the AMQP
 * bus and the outbox relay. `stop` takes them down in the order that loses nothing: stop
 * consuming (in-flight messages finish and ack), let the relay finish its batch, then close.
 */
export async function connectService<B extends string, C extends EventCatalog = EventCatalog>(manifest: ServiceManifest<C>, config: Config<B>, migrations: URL) {
  const { name } = manifest
  const log = createLog(name, config.logLevel as LogLevel)
  const { sql, applied, ahead } = await openMigrated({ url: config.databaseUrl, poolMax: config.dbPoolMax, migrations, timeouts: config.dbTimeouts })
  // message handlers get their own pool: a burst of events queued on one hot row must never
  // leave HTTP requests waiting for a connection
  const eventsSql = connectDb(config.databaseUrl, config.dbEventsPoolMax, config.dbTimeouts)
  if (applied.length) log.info('migrated', { applied })
  if (ahead.length) log.warn('the database has migrations this release does not know (a rollback?); they only add, so this release runs on it', { ahead })
  const instruments = instrumentsOf(name, config.tracing)
  const { tracing, metrics } = instruments
  const redis = connectRedis(config.redisUrl, log, config.redisSentinel)
  const cache = createCache({ redis, prefix: config.cachePrefix, ttlSeconds: config.cacheTtlSeconds, log, metrics, nearLimits: config.nearCache, lease: config.nearCacheLease })
  const bus = createBus({
    url: config.amqpUrl,
    exchange: config.exchange,
    log,
    instruments,
    events: manifest.events,
    name,
    queueType: config.queueType,
    publishTimeoutMs: config.publishTimeoutMs,
    restoreBoundMs: config.consumerRestoreSeconds * 1000,
  })
  // one outbox per service: its transactions wake its relay, whichever pool they write through
  const outbox = createOutbox({ sql, bus, log, instruments })
  const { relay } = outbox
  relay.start()
  // rate limits counted in Redis, so every replica counts the same
  const { clientOf, access: guard } = callersOf({ manifest, config, log, metrics, counts: exactCounts(redis, config.cachePrefix) })
  const checks = {
    postgres: async () => sql`select 1`,
    redis: redis.check,
    rabbitmq: bus.check,
  }
  // what /ready reports, for alerts and dashboards: a degraded service still answers 200
  reportDependencies(metrics, checks)
  /**
   * Waits for the consumers to run, but not for ever: with RabbitMQ away the service still
   * serves HTTP (orders go to the outbox) and the consumers start when the broker is back.
   */
  const consumersRunning = async (starting: Promise<void>, waitMs = 5000) => {
    const started = await Promise.race([starting.then(() => true), new Promise<false>((r) => setTimeout(r, waitMs, false))])
    if (!started) log.warn('RabbitMQ is not reachable yet; serving HTTP, consuming once it is')
  }
  return {
    log,
    exchange: config.exchange,
    access: guard,
    clientOf,
    /** this service's own credential for calling another one with `scope`; undefined when none is configured */
    credentialFor: (scope: string) => serviceCredential({ name, scope, settings: config.serviceCredential, log }),
    tracing,
    metrics,
    vocabulary: { scopes: manifest.scopes, serviceScopes: manifest.serviceScopes, events: manifest.events } satisfies DocVocabulary,
    http: { auth: config.auth.enabled ? ('on' as const) : ('off' as const), maxBodyBytes: config.maxBodyBytes, metrics: config.metrics },
    /** what /health and /ready say beyond the dependency checks */
    health: { failing: () => bus.state().stuck, consumers: () => bus.state().consumers },
    shutdownTimeoutSeconds: config.shutdownTimeoutSeconds,
    sql,
    consumersRunning,
    eventsSql,
    /** the outbox writing through the HTTP pool; `outbox.on(eventsSql)` for message handlers */
    outbox,
    cache,
    bus,
    relay,
    checks,
    async stop() {
      await bus.stopConsuming()
      await relay.stop()
      await bus.close()
      await cache.close()
      await redis.close()
      await Promise.all([sql.end({ timeout: 5 }), eventsSql.end({ timeout: 5 }), tracing.shutdown()])
    },
  }
}

export type ServicePlatform<B extends string = string, C extends EventCatalog = EventCatalog> = Awaited<ReturnType<typeof connectService<B, C>>>
/** What the HTTP side of a service needs from its platform. */
export type AppPlatform<B extends string = string> = Pick<
  ServicePlatform<B>,
  'log' | 'checks' | 'health' | 'vocabulary' | 'exchange' | 'http' | 'access' | 'clientOf' | 'tracing' | 'metrics'
>

/** What the HTTP shell needs from a platform, `connectService`'s or `connectHttpService`'s. */
export type AppShell = {
  log: Log
  checks: Checks
  health: HealthOptions
  vocabulary: DocVocabulary
  http: { auth: 'on' | 'off'; maxBodyBytes: number; metrics: boolean }
  clientOf: RequestClient
  tracing: Tracing
  metrics: Metrics
}

/**
 * The HTTP shell every service shares: request ids, problem+json, health and readiness, the
 * service's routes, and last the docs, generated from every route registered before them.
 */
export function serviceApp(info: ServiceDocs, platform: AppShell, routes: AnyElysia) {
  const { auth, maxBodyBytes } = platform.http
  // normalize: false -> unknown body fields are a 400 naming them, not silently dropped. Bun's
  // own body limit (128 MB) stays a backstop far above MAX_BODY_BYTES: below it, `problems`
  // answers a 413 problem without reading the body; above it Bun drops the connection.
  const app = new Elysia({ normalize: false })
    .use(tracingPlugin(platform.tracing, platform.clientOf))
    .use(requestId())
    .use(platform.http.metrics ? metricsPlugin(platform.metrics) : new Elysia())
    .use(problems(platform.log, maxBodyBytes))
    .use(health(platform.checks, auth, platform.health))
    .use(routes)
  return app.use(docs(info, platform.vocabulary, app.routes))
}

/**
 * Creates and migrates a service's database, then exits: what a Kubernetes init container runs
 * once per pod before the service starts (replicas starting together wait on the same advisory
 * lock, so one of them migrates and the others find nothing to do).
 */
export async function migrateOnly(name: string, config: Pick<Config, 'databaseUrl' | 'logLevel'>, migrations: URL): Promise<never> {
  const log = createLog(name, config.logLevel as LogLevel)
  try {
    const { sql, applied, ahead } = await openMigrated({ url: config.databaseUrl, poolMax: 1, migrations })
    if (ahead.length) log.warn('the database has migrations this release does not know (a rollback?); they only add, so this release runs on it', { ahead })
    log.info('migrated', { applied })
    await sql.end({ timeout: 5 })
    process.exit(0)
  } catch (err) {
    return failedToStart(err)
  }
}
