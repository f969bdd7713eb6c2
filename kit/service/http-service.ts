/**
 * The light start of a service that only serves HTTP and calls other services (no database,
 * cache or broker of its own): `connectHttpService`. Its parts (log, metrics, traces, who the
 * client is, tokens and rate limits) are the ones `connectService` uses too.
 */
import type { TSchema } from '@sinclair/typebox'
import { createLog, type Log, type LogLevel } from '../observability/log.ts'
import { createMetrics, type Metrics } from '../observability/metrics.ts'
import { createTracing } from '../observability/tracing.ts'
import { access } from '../security/access.ts'
import { clientAddress, requestClient, trustedProxies } from '../security/client-address.ts'
import { localCounts, type Counts } from '../security/rate-counts.ts'
import { createVerifier } from '../security/verify-token.ts'
import { dependencyStates } from '../http/health.ts'
import type { DocVocabulary } from '../api-docs/docs.ts'
import type { httpServiceConfig, LimitSettings } from './config.ts'

/** An HTTP service's configuration (`httpServiceConfig`), its rate-limit buckets named `B`. */
type HttpConfig<B extends string = string> = Omit<ReturnType<typeof httpServiceConfig>, 'limits'> & { limits: LimitSettings<B> }

/**
 * What a service that has no events tells the kit about itself: its name, the scopes its tokens
 * speak (with what each allows, for the API document), the ones only services hold, and what a
 * token's `sub` must be.
 */
export type HttpServiceManifest = { name: string; scopes: Record<string, string>; serviceScopes?: readonly string[]; subject?: TSchema }

/** A dependency check: resolves when the dependency answers, throws (or hangs) when it does not. */
export type Checks = Record<string, () => Promise<unknown>>

/** Traces and metrics under the service's name (OTEL_SERVICE_NAME, if set, on its spans). */
export function instrumentsOf(name: string, tracing: HttpConfig['tracing']) {
  return { tracing: createTracing({ ...tracing, serviceName: tracing.serviceName ?? name }), metrics: createMetrics(name) }
}

/**
 * Who may call: the client behind TRUSTED_PROXIES (worked out once per request, for limits, logs
 * and traces), the token checks of the manifest's vocabulary, and the rate limits counted in
 * `counts` (Redis shared by every replica, or this process's own).
 */
export function callersOf<B extends string>({
  manifest,
  config,
  log,
  metrics,
  counts,
}: {
  manifest: HttpServiceManifest
  config: Pick<HttpConfig<B>, 'auth' | 'trustedProxies' | 'limits'>
  log: Log
  metrics: Metrics
  counts: Counts
}) {
  if (!config.auth.enabled) log.warn('AUTH=off: authentication is turned off; every caller may do everything')
  const clientOf = requestClient(clientAddress(trustedProxies(config.trustedProxies)))
  const verify = createVerifier(config.auth, { scopes: Object.keys(manifest.scopes), serviceScopes: manifest.serviceScopes, subject: manifest.subject })
  return { clientOf, access: access({ verify, counts, limits: config.limits, log, clientOf, metrics }) }
}

/** What /ready reports, for alerts and dashboards: `shop_dependency_up` per dependency. */
export function reportDependencies(metrics: Metrics, checks: Checks) {
  metrics.gauge('shop_dependency_up', 'Whether a dependency answers (1) or not (0), as /ready asks it', async (gauge) => {
    for (const [dependency, state] of await dependencyStates(checks)) gauge.set({ dependency }, state === 'down' ? 0 : 1)
  }, ['dependency'])
}

/**
 * What a service that only serves HTTP stands on: its log, metrics and traces, its token checks,
 * and rate limits counted in this process (it has no Redis; so a limit holds per replica, and the
 * services it calls keep their own shared ones). `checks` are the services it calls, reported by
 * /ready and in `shop_dependency_up`; none of them is required, so one away makes it `degraded`,
 * never takes it out of its Service. Nothing to connect: it is ready as soon as it listens.
 */
export function connectHttpService<B extends string>(manifest: HttpServiceManifest, config: HttpConfig<B>, { checks = {} }: { checks?: Checks } = {}) {
  const log = createLog(manifest.name, config.logLevel as LogLevel)
  const { tracing, metrics } = instrumentsOf(manifest.name, config.tracing)
  const { clientOf, access } = callersOf({ manifest, config, log, metrics, counts: localCounts() })
  reportDependencies(metrics, checks)
  return {
    log,
    tracing,
    metrics,
    clientOf,
    access,
    checks,
    vocabulary: { scopes: manifest.scopes, serviceScopes: manifest.serviceScopes } satisfies DocVocabulary,
    http: { auth: config.auth.enabled ? ('on' as const) : ('off' as const), maxBodyBytes: config.maxBodyBytes, metrics: config.metrics },
    /** what /health and /ready say beyond the checks: nothing is required */
    health: { required: [] as string[] },
    shutdownTimeoutSeconds: config.shutdownTimeoutSeconds,
    async stop() {
      await tracing.shutdown()
    },
  }
}

export type HttpPlatform<B extends string = string> = ReturnType<typeof connectHttpService<B>>
