/**
 * A service's configuration from its environment, checked against a TypeBox schema at start: the
 * variables every service reads, and its rate-limit buckets.
 */
import { Type as t, type Static, type TInteger, type TObject } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { leaseTiming } from '../cache/leases.ts'

/**
 * Reads a service's configuration from an env-like record once: defaults applied, strings
 * converted to the schema's types, and every bad variable named in one error at start-up.
 */
export function readEnv<S extends TObject>(schema: S, env: Record<string, string | undefined>): Static<S> {
  const picked: Record<string, unknown> = {}
  for (const key of Object.keys(schema.properties)) if (env[key] !== undefined && env[key] !== '') picked[key] = env[key]
  const value = Value.Convert(schema, Value.Default(schema, picked))
  if (!Value.Check(schema, value)) {
    const problems = [...Value.Errors(schema, value)].map((e) => `${e.path.slice(1)}: ${e.message}`)
    throw new Error(`invalid configuration: ${problems.join('; ')}`)
  }
  return value as Static<S>
}

/**
 * The variables every service reads, one that only serves HTTP included (no database, cache or
 * broker of its own): its port, tokens, client addresses, body and rate limits, metrics, traces,
 * logs and shutdown. A service adds its own next to them.
 */
export const httpServiceEnv = (d: { port: number }) =>
  ({
    PORT: t.Integer({ default: d.port, minimum: 0, maximum: 65535 }),
    SHUTDOWN_TIMEOUT_SECONDS: t.Integer({ default: 15, minimum: 1, description: 'after SIGTERM the process exits within this, whatever it was waiting for' }),
    AUTH: t.Union([t.Literal('on'), t.Literal('off')], { default: 'on', description: 'off: every caller may do everything' }),
    JWT_JWKS_URL: t.Optional(t.String({ description: "the identity provider's JWKS (fetched, cached, re-read for a new kid)" })),
    JWT_JWKS_MAX_AGE_SECONDS: t.Integer({ default: 600, minimum: 0, description: 'JWKS re-read after this long' }),
    JWT_JWKS_COOLDOWN_SECONDS: t.Integer({ default: 30, minimum: 0, description: 'at most one re-read this often for an unknown kid' }),
    JWT_PUBLIC_KEY: t.Optional(t.String({ description: 'or one PEM public key (SPKI); `\\n` may stand for newlines' })),
    JWT_ISSUER: t.String({ default: 'shop-local', description: 'the `iss` every token must carry' }),
    JWT_AUDIENCE: t.String({ default: 'shop', description: 'the `aud` every token must carry' }),
    JWT_CLOCK_TOLERANCE_SECONDS: t.Integer({ default: 30, minimum: 0, maximum: 300 }),
    TRUSTED_PROXIES: t.String({
      default: '',
      description: 'addresses and CIDR ranges (comma-separated) whose X-Forwarded-For / Forwarded is believed; empty: none',
    }),
    MAX_BODY_BYTES: t.Integer({ default: 65_536, minimum: 1024 }),
    RATE_LIMIT_WINDOW_SECONDS: t.Integer({ default: 60, minimum: 1 }),
    RATE_LIMIT_SERVICES: t.Integer({ default: 600_000, minimum: 1, description: 'calls per calling service (its own token) per window' }),
    RATE_LIMIT_AUTH_FAILURES: t.Integer({ default: 60, minimum: 1, description: 'refused tokens per client address per window; then 429 before any check' }),
    METRICS: t.Union([t.Literal('on'), t.Literal('off')], { default: 'on', description: 'off: no /metrics and no per-request metrics' }),
    // the OpenTelemetry SDK's standard variables (traces are off unless the endpoint is set)
    OTEL_EXPORTER_OTLP_ENDPOINT: t.Optional(t.String({ description: 'OTLP/HTTP base URL, e.g. http://otel-collector:4318' })),
    OTEL_SERVICE_NAME: t.Optional(t.String()),
    OTEL_TRACES_SAMPLER: t.String({ default: 'parentbased_always_on' }),
    OTEL_TRACES_SAMPLER_ARG: t.Optional(t.String()),
    OTEL_BSP_SCHEDULE_DELAY: t.Integer({ default: 5000, minimum: 1, description: 'ms between span exports' }),
    LOG_LEVEL: t.Union([t.Literal('debug'), t.Literal('info'), t.Literal('warn'), t.Literal('error'), t.Literal('silent')], {
      default: 'info',
    }),
  }) as const

type ServiceDefaults = { port: number; database: string; cachePrefix: string }

/**
 * The variables every service with its own data reads, with its own defaults: `httpServiceEnv`
 * and its PostgreSQL, Redis, RabbitMQ and service credentials, in the order the configuration
 * page has always listed them. A service adds its own next to them.
 */
export const serviceEnv = (d: ServiceDefaults) => {
  const { PORT, SHUTDOWN_TIMEOUT_SECONDS, AUTH, JWT_JWKS_URL, JWT_JWKS_MAX_AGE_SECONDS, JWT_JWKS_COOLDOWN_SECONDS, JWT_PUBLIC_KEY, JWT_ISSUER, JWT_AUDIENCE, JWT_CLOCK_TOLERANCE_SECONDS, ...http } =
    httpServiceEnv({ port: d.port })
  return {
    PORT,
    DATABASE_URL: t.String({ default: `postgres://postgres@127.0.0.1:5432/${d.database}` }),
    DB_POOL_MAX: t.Integer({ default: 10, minimum: 1, description: 'connections for HTTP requests and the relay' }),
    DB_EVENTS_POOL_MAX: t.Integer({ default: 4, minimum: 1, description: 'connections for message handlers' }),
    DB_STATEMENT_TIMEOUT_MS: t.Integer({ default: 30_000, minimum: 0, description: "PostgreSQL's statement_timeout for every session (0: none); migrations run without it" }),
    DB_LOCK_TIMEOUT_MS: t.Integer({ default: 10_000, minimum: 0, description: "PostgreSQL's lock_timeout for every session (0: none); a message that hits it is retried" }),
    REDIS_URL: t.String({ default: 'redis://127.0.0.1:6379' }),
    REDIS_SENTINELS: t.Optional(
      t.String({
        pattern: '^\\s*[^\\s,:]+:\\d+\\s*(,\\s*[^\\s,:]+:\\d+\\s*)*$',
        description:
          'host:port of Redis Sentinels (comma-separated): when set, the service asks them for the master of REDIS_SENTINEL_NAME instead of using REDIS_URL and follows it through a failover (a command waits 1 s at most meanwhile)',
      }),
    ),
    REDIS_SENTINEL_NAME: t.String({ default: 'mymaster', description: 'the master name the Sentinels monitor (with REDIS_SENTINELS)' }),
    CACHE_PREFIX: t.String({ default: d.cachePrefix }),
    CACHE_TTL_SECONDS: t.Integer({ default: 60, minimum: 1 }),
    NEAR_CACHE_MAX_ENTRIES: t.Integer({ default: 10_000, minimum: 0, description: 'entries held in process memory; 0 turns the near cache off' }),
    NEAR_CACHE_MAX_BYTES: t.Integer({ default: 16 * 1024 * 1024, minimum: 0 }),
    NEAR_CACHE_LEASE_MS: t.Integer({
      default: 2000,
      minimum: 200,
      maximum: 60_000,
      description: 'how long a read lease lasts: a replica answers hits from memory only under one, and a write waits this long at most for a replica that does not answer',
    }),
    AMQP_URL: t.String({
      default: 'amqp://guest:guest@127.0.0.1:5672',
      description:
        'RabbitMQ; the service opens two connections to it, one to publish and one to consume. Several comma-separated URLs (the nodes of a cluster): each connection takes the next one when it cannot connect or is lost',
    }),
    EVENTS_EXCHANGE: t.String({ default: 'shop.events' }),
    QUEUE_TYPE: t.Union([t.Literal('quorum'), t.Literal('classic')], {
      default: 'quorum',
      description: "the consumer queue's type; an existing queue keeps its type until it is deleted",
    }),
    AMQP_PUBLISH_TIMEOUT_MS: t.Integer({ default: 10_000, minimum: 100, description: "the longest a publish waits for the broker's confirms; the relay's transaction is held no longer" }),
    AMQP_CONSUMER_RESTORE_SECONDS: t.Integer({
      default: 60,
      minimum: 1,
      description: 'a consumer not restored this long while the broker answers fails /health, so the orchestrator restarts the process',
    }),
    SHUTDOWN_TIMEOUT_SECONDS,
    CONSUMER_PREFETCH: t.Integer({ default: 200, minimum: 1, description: "unacked messages per consumer; batches are half of it" }),
    AUTH,
    JWT_JWKS_URL,
    JWT_JWKS_MAX_AGE_SECONDS,
    JWT_JWKS_COOLDOWN_SECONDS,
    JWT_PUBLIC_KEY,
    JWT_ISSUER,
    JWT_AUDIENCE,
    JWT_CLOCK_TOLERANCE_SECONDS,
    SERVICE_JWKS: t.Optional(t.String({ description: 'public keys (a JWKS, `kid` = the service) of services that may call this one as themselves' })),
    SERVICE_PRIVATE_JWK: t.Optional(t.String({ description: "this service's own private JWK, to sign the token of its calls to other services" })),
    SERVICE_TOKEN_URL: t.Optional(t.String({ description: "or the identity provider's token endpoint (OAuth 2.0 client credentials)" })),
    SERVICE_CLIENT_ID: t.Optional(t.String()),
    SERVICE_CLIENT_SECRET: t.Optional(t.String()),
    ...http,
  } as const
}

type HttpVars = Static<TObject<ReturnType<typeof httpServiceEnv>>>
type ServiceVars = Static<TObject<ReturnType<typeof serviceEnv>>>

/**
 * A service's rate-limit buckets: each is counted per caller per window, and read from
 * `RATE_LIMIT_<NAME>` with its default. `batched`: counted in this process and sent to Redis in
 * batches (for the hot path, reads), instead of one exact round trip per request.
 */
export type Buckets = Record<string, { default: number; description: string; batched?: boolean }>
type BucketVars<B extends Buckets> = { [K in keyof B & string as `RATE_LIMIT_${Uppercase<K>}`]: TInteger }
const bucketVar = (name: string) => `RATE_LIMIT_${name.toUpperCase()}`

/** The variables of a service's buckets, to spread into its schema next to `serviceEnv` or `httpServiceEnv`. */
export const limitEnv = <B extends Buckets>(buckets: B): BucketVars<B> =>
  Object.fromEntries(
    Object.entries(buckets).map(([name, b]) => [bucketVar(name), t.Integer({ default: b.default, minimum: 1, description: b.description })]),
  ) as BucketVars<B>

/** The typed, camel-cased view of `httpServiceEnv` (and the service's buckets) that start.ts files consume. */
export const httpServiceConfig = <B extends Buckets>(c: HttpVars, buckets: B) => ({
  port: c.PORT,
  shutdownTimeoutSeconds: c.SHUTDOWN_TIMEOUT_SECONDS,
  logLevel: c.LOG_LEVEL,
  auth: {
    enabled: c.AUTH === 'on',
    jwksUrl: c.JWT_JWKS_URL,
    jwksMaxAgeSeconds: c.JWT_JWKS_MAX_AGE_SECONDS,
    jwksCooldownSeconds: c.JWT_JWKS_COOLDOWN_SECONDS,
    publicKey: c.JWT_PUBLIC_KEY?.replaceAll('\\n', '\n'),
    issuer: c.JWT_ISSUER,
    audience: c.JWT_AUDIENCE,
    clockToleranceSeconds: c.JWT_CLOCK_TOLERANCE_SECONDS,
    serviceJwks: undefined as string | undefined,
  },
  trustedProxies: c.TRUSTED_PROXIES,
  maxBodyBytes: c.MAX_BODY_BYTES,
  metrics: c.METRICS === 'on',
  tracing: {
    endpoint: c.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: c.OTEL_SERVICE_NAME,
    sampler: c.OTEL_TRACES_SAMPLER,
    samplerArg: c.OTEL_TRACES_SAMPLER_ARG,
    scheduleDelayMs: c.OTEL_BSP_SCHEDULE_DELAY,
  },
  limits: {
    windowSeconds: c.RATE_LIMIT_WINDOW_SECONDS,
    /** each bucket's limit; `services` counts other services calling as themselves */
    perWindow: {
      ...(Object.fromEntries(Object.keys(buckets).map((name) => [name, (c as unknown as Record<string, number>)[bucketVar(name)]!])) as Record<keyof B & string, number>),
      services: c.RATE_LIMIT_SERVICES,
    },
    batched: Object.keys(buckets).filter((name) => buckets[name]!.batched) as (keyof B & string)[],
    authFailures: c.RATE_LIMIT_AUTH_FAILURES,
  },
})

/** The typed, camel-cased view of `serviceEnv` (and the service's buckets) that start.ts files consume. */
export const serviceConfig = <B extends Buckets>(c: ServiceVars, queue: string, buckets: B) => {
  const http = httpServiceConfig(c, buckets)
  return {
    ...http,
    databaseUrl: c.DATABASE_URL,
    dbPoolMax: c.DB_POOL_MAX,
    dbEventsPoolMax: c.DB_EVENTS_POOL_MAX,
    dbTimeouts: { statementMs: c.DB_STATEMENT_TIMEOUT_MS, lockMs: c.DB_LOCK_TIMEOUT_MS },
    redisUrl: c.REDIS_URL,
    /** the Sentinels to ask for the master, instead of REDIS_URL; undefined: REDIS_URL */
    redisSentinel: c.REDIS_SENTINELS ? { name: c.REDIS_SENTINEL_NAME, nodes: sentinelNodes(c.REDIS_SENTINELS) } : undefined,
    cachePrefix: c.CACHE_PREFIX,
    cacheTtlSeconds: c.CACHE_TTL_SECONDS,
    nearCache: { maxEntries: c.NEAR_CACHE_MAX_ENTRIES, maxBytes: c.NEAR_CACHE_MAX_BYTES },
    nearCacheLease: leaseTiming(c.NEAR_CACHE_LEASE_MS),
    amqpUrl: c.AMQP_URL,
    publishTimeoutMs: c.AMQP_PUBLISH_TIMEOUT_MS,
    consumerRestoreSeconds: c.AMQP_CONSUMER_RESTORE_SECONDS,
    exchange: c.EVENTS_EXCHANGE,
    queue,
    queueType: c.QUEUE_TYPE,
    prefetch: c.CONSUMER_PREFETCH,
    auth: { ...http.auth, serviceJwks: c.SERVICE_JWKS },
    /** how this service proves itself when it calls another (service-token.ts) */
    serviceCredential: {
      privateJwk: c.SERVICE_PRIVATE_JWK,
      tokenUrl: c.SERVICE_TOKEN_URL,
      clientId: c.SERVICE_CLIENT_ID,
      clientSecret: c.SERVICE_CLIENT_SECRET,
      audience: c.JWT_AUDIENCE,
    },
  }
}

/** `host:port,host:port` (checked by the schema's pattern) as node-redis wants it. */
function sentinelNodes(list: string) {
  return list.split(',').map((entry) => {
    const at = entry.trim().lastIndexOf(':')
    return { host: entry.trim().slice(0, at), port: Number(entry.trim().slice(at + 1)) }
  })
}

export type AuthSettings = ReturnType<typeof httpServiceConfig>['auth']
export type LimitSettings<B extends string = string> = {
  windowSeconds: number
  perWindow: Record<B | 'services', number>
  batched: readonly B[]
  authFailures: number
}
