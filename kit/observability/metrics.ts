/**
 * Prometheus metrics with prom-client, one registry per service: RED metrics per route, and the
 * gauges and counters other modules add.
 */
import { Elysia } from 'elysia'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { statusOf } from '../http/status.ts'
import { withTimeout } from '../core/retry.ts'

/**
 * Prometheus metrics with prom-client, one registry per service (tests run two services in one
 * process). Names follow Prometheus' rules: units in the name, `_total` counters, labels of low
 * cardinality (a route template, never an id).
 */
export function createMetrics(service: string) {
  const registry = new Registry()
  registry.setDefaultLabels({ service })
  collectDefaultMetrics({ register: registry }) // process_resident_memory_bytes, nodejs_eventloop_lag_seconds, GC, ...
  // three of prom-client's defaults are gauges named like counters, which promtool rightly refuses
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(name)
  const registers = [registry]
  const seconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
  return {
    registry,
    http: {
      requests: new Counter({ name: 'http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'], registers }),
      duration: new Histogram({
        name: 'http_request_duration_seconds',
        help: 'Time to answer an HTTP request',
        labelNames: ['method', 'route', 'status'],
        buckets: seconds,
        registers,
      }),
    },
    messages: {
      consumed: new Counter({ name: 'shop_messages_consumed_total', help: 'Messages handled and acked', labelNames: ['queue', 'event'], registers }),
      failed: new Counter({ name: 'shop_messages_failed_total', help: 'Handler attempts that failed', labelNames: ['queue'], registers }),
      deadLettered: new Counter({
        name: 'shop_messages_dead_lettered_total',
        help: 'Messages sent to the dead-letter queue (poison or given up)',
        labelNames: ['queue'],
        registers,
      }),
      confirmSeconds: new Histogram({
        name: 'shop_publish_confirm_duration_seconds',
        help: "Time from publishing a batch to the broker's confirm",
        buckets: seconds,
        registers,
      }),
    },
    cache: new Counter({ name: 'shop_cache_requests_total', help: 'Cache reads by result', labelNames: ['result'], registers }),
    gauge: (name: string, help: string, collect: (g: Gauge) => Promise<void>, labelNames: string[] = []) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          // a dependency away or hanging: the last value stays, and the scrape neither fails nor
          // waits past a second for it (Prometheus gives a whole scrape 10 s by default)
          await withTimeout(collect(this), 1000, 'gauge too slow').catch(() => {})
        },
      }),
    counter: (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers }),
    histogram: (name: string, help: string, buckets = seconds, labelNames: string[] = []) =>
      new Histogram({ name, help, labelNames, buckets, registers }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>

/** When each request arrived (`performance.now()`), noted by the metrics plugin. */
const started = new WeakMap<Request, number>()

/** When a request arrived (`performance.now()`); undefined where metrics are off. */
export const arrivedAt = (request: Request): number | undefined => started.get(request)

/** RED metrics per route template, and `GET /metrics` in Prometheus' text format. */
export const metricsPlugin = (metrics: Metrics) => {
  return new Elysia({ name: 'metrics' })
    .onRequest(({ request }) => void started.set(request, performance.now()))
    // destructured, not `ctx`: Elysia reads what a hook takes from its parameters, and a whole
    // context passed on makes every route parse cookies, query and headers it never needs
    .onAfterResponse({ as: 'global' }, ({ request, route, set, response }) => {
      const begun = started.get(request)
      if (begun === undefined || route === '/metrics') return
      const labels = { method: request.method, route: route || 'unmatched', status: String(statusOf({ request, set, response } as never)) }
      metrics.http.requests.inc(labels)
      metrics.http.duration.observe(labels, (performance.now() - begun) / 1000)
    })
    .get(
      '/metrics',
      async () => new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } }),
      { detail: { hide: true } },
    )
}
