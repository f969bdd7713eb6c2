import { describe, expect, it } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Config as ProductConfig } from '@shop/product/config'
import { Config as OrderConfig } from '@shop/order/config'
import { promtoolFor } from '@shop/testkit'
import { alertQueries, dashboardFile, dashboardQueries, exposedNames, metricNames } from '@shop/testkit/promql'

// compose.yml's `observability` profile and the files it mounts from deploy/observability/,
// checked without an engine (its images cannot be pulled here): Prometheus' config through
// promtool, the collector's pipeline, Grafana's provisioning against the dashboard, and the
// PromQL extractor that system-tests/observability/observability.dashboards.test.ts holds to the live /metrics.
const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const yaml = <T>(path: string) => Bun.YAML.parse(read(path)) as T
const dir = 'deploy/observability/'
type Service = { image?: string; profiles?: string[]; environment?: Record<string, string>; ports?: string[]; volumes?: string[]; command?: string[] }
const services = yaml<{ services: Record<string, Service> }>('compose.yml').services
const profile = Object.fromEntries(Object.entries(services).filter(([, s]) => s.profiles?.includes('observability')))
// without promtool the checks that run it are skipped, and the run says so
const promtoolPath = promtoolFor(import.meta.path)
const promtool = (...args: string[]) => {
  const run = Bun.spawnSync([promtoolPath!, ...args], { cwd: fileURLToPath(root), stdout: 'pipe', stderr: 'pipe' })
  return { ok: run.success, output: `${run.stdout}${run.stderr}` }
}
/** where a compose volume `./host:/container[:ro]` puts a repository path inside the container */
const inContainer = (service: Service, repoPath: string) => {
  for (const v of service.volumes ?? []) {
    const [host, target] = v.split(':') as [string, string]
    const from = host.replace(/^\.\//, '')
    if (host.startsWith('./') && (repoPath === from || repoPath.startsWith(`${from}/`))) return target + repoPath.slice(from.length)
  }
  return undefined
}

describe('compose.yml, observability profile', () => {
  it('when the profile is used, then it runs a collector, Jaeger, Prometheus and Grafana on pinned images', () => {
    expect(Object.keys(profile).sort()).toEqual(['grafana', 'jaeger', 'otel-collector', 'prometheus'])
    for (const [name, s] of Object.entries(profile)) expect({ name, image: s.image }).toEqual({ name, image: expect.stringMatching(/:v?\d+\.\d+\.\d+$/) })
    expect(profile['otel-collector']!.image).toStartWith('otel/opentelemetry-collector')
    expect(profile.jaeger!.image).toStartWith('jaegertracing/')
  })

  it('when published, then on 127.0.0.1 only, each port movable by env', () => {
    const ports = Object.values(profile).flatMap((s) => s.ports ?? [])
    expect(ports.sort()).toEqual([
      '127.0.0.1:${GRAFANA_HOST_PORT:-3001}:3000',
      '127.0.0.1:${JAEGER_UI_HOST_PORT:-16686}:16686',
      '127.0.0.1:${OTEL_COLLECTOR_HOST_PORT:-4318}:4318',
      '127.0.0.1:${PROMETHEUS_HOST_PORT:-9090}:9090',
    ])
  })

  it('when product, order and the bff run, then they export traces only if OTEL_EXPORTER_OTLP_ENDPOINT is given, each under its own name', () => {
    for (const name of ['product', 'order', 'bff']) {
      const env = services[name]!.environment!
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('${OTEL_EXPORTER_OTLP_ENDPOINT:-}')
      expect(env.OTEL_SERVICE_NAME).toBe(name)
    }
    // read by config (compose.config.test.ts holds every variable to it) and empty means unset
    expect(Object.keys(ProductConfig.properties)).toContain('OTEL_EXPORTER_OTLP_ENDPOINT')
    expect(Object.keys(OrderConfig.properties)).toContain('OTEL_SERVICE_NAME')
    // what the README tells to set is where the collector listens
    const command = 'OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318 docker compose --profile observability up --build'
    expect({ command, inReadme: read('README.md').includes(command) }).toEqual({ command, inReadme: true })
  })

  it('when a container reads its config, then the file is in the repository at the path compose mounts', () => {
    const config = (service: string, flag: string) => profile[service]!.command!.find((c) => c.startsWith(flag))!.slice(flag.length)
    expect(config('otel-collector', '--config=')).toBe(inContainer(profile['otel-collector']!, `${dir}otel-collector.yaml`)!)
    expect(config('prometheus', '--config.file=')).toBe(inContainer(profile.prometheus!, `${dir}prometheus.yml`)!)
    // the rules file sits where prometheus.yml's relative path points, in the container as in the checkout
    expect(inContainer(profile.prometheus!, 'deploy/prometheus/alerts.yml')).toBe('/etc/shop/prometheus/alerts.yml')
    expect(inContainer(profile.grafana!, `${dir}grafana/provisioning/datasources/datasources.yaml`)).toBe('/etc/grafana/provisioning/datasources/datasources.yaml')
    expect(inContainer(profile.grafana!, dashboardFile)).toBe(profile.grafana!.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!)
  })
})

describe('deploy/observability/prometheus.yml', () => {
  const config = yaml<{ rule_files: string[]; scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; type: string; port: number }[] }[] }>(
    `${dir}prometheus.yml`,
  )

  it.skipIf(!promtoolPath)('when promtool checks it, then the config and the alert rules it loads are valid', () => {
    const { ok, output } = promtool('check', 'config', `${dir}prometheus.yml`)
    expect(output).toContain('SUCCESS: 1 rule files found')
    expect(output).toContain(`SUCCESS: ${alertQueries().length} rules found`)
    expect(ok).toBe(true)
    expect(config.rule_files).toEqual(['../prometheus/alerts.yml'])
  })

  it.skipIf(!promtoolPath)('when a config is broken, then promtool says so (the check can fail)', () => {
    const broken = fileURLToPath(new URL('./fixtures/broken-prometheus.yml', import.meta.url))
    const { ok, output } = promtool('check', 'config', broken)
    expect(ok).toBe(false)
    expect(output).toContain('FAILED')
    expect(output).toContain('invalid DNS-SD records type') // the fixture's mistake, not a missing file
  })

  it('when the services are scaled, then every replica is scraped: one job per service over compose DNS A records', () => {
    const jobs = Object.fromEntries(config.scrape_configs.map((j) => [j.job_name, j.dns_sd_configs]))
    expect(jobs).toEqual({
      product: [expect.objectContaining({ names: ['product'], type: 'A', port: 3000 })],
      order: [expect.objectContaining({ names: ['order'], type: 'A', port: 8080 })],
      bff: [expect.objectContaining({ names: ['bff'], type: 'A', port: 5000 })],
    })
  })
})

describe('deploy/observability/otel-collector.yaml', () => {
  type Collector = {
    receivers: { otlp: { protocols: { http?: { endpoint: string } } } }
    exporters: Record<string, { endpoint: string; tls?: { insecure: boolean } }>
    processors: Record<string, unknown>
    service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> }
  }
  const collector = yaml<Collector>(`${dir}otel-collector.yaml`)

  it('when the services send OTLP/HTTP to :4318, then the collector listens there on every interface', () => {
    expect(collector.receivers.otlp.protocols.http?.endpoint).toBe('0.0.0.0:4318')
  })

  it('when spans arrive, then the traces pipeline takes them from otlp and exports them to Jaeger over OTLP', () => {
    const traces = collector.service.pipelines.traces!
    expect(traces.receivers).toEqual(['otlp'])
    const toJaeger = traces.exporters.filter((e) => e.startsWith('otlp') && collector.exporters[e]?.endpoint.startsWith('jaeger:'))
    expect(toJaeger.length).toBe(1)
    expect(collector.exporters[toJaeger[0]!]!.endpoint).toBe('jaeger:4317')
    for (const p of traces.processors) expect(Object.keys(collector.processors)).toContain(p)
    expect(traces.processors.at(-1)).toBe('batch')
  })
})

describe('deploy/observability/grafana', () => {
  type Datasource = { uid: string; type: string; url: string }
  const datasources = yaml<{ datasources: Datasource[] }>(`${dir}grafana/provisioning/datasources/datasources.yaml`).datasources
  const providers = yaml<{ providers: { type: string; options: { path: string } }[] }>(`${dir}grafana/provisioning/dashboards/dashboards.yaml`).providers
  type Ref = { type: string; uid: string }
  type Panel = { title: string; datasource?: Ref; targets?: { datasource?: Ref }[]; panels?: Panel[] }
  const dashboard = JSON.parse(read(dashboardFile)) as { uid: string; schemaVersion: number; panels: Panel[] }
  const panels = (list: Panel[]): Panel[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])])

  it('when Grafana starts, then Prometheus and Jaeger are provisioned at their compose hosts', () => {
    expect(datasources.map((d) => [d.type, d.url]).sort()).toEqual([
      ['jaeger', 'http://jaeger:16686'],
      ['prometheus', 'http://prometheus:9090'],
    ])
  })

  it('when the dashboard provider reads its folder, then that is where compose mounts the dashboard JSON', () => {
    const grafana = profile.grafana!
    expect(providers.length).toBe(1)
    expect(providers[0]!.type).toBe('file')
    const mounted = inContainer(grafana, dashboardFile)!
    expect(mounted.slice(0, mounted.lastIndexOf('/'))).toBe(providers[0]!.options.path)
    expect(readdirSync(new URL(`${dir}grafana/dashboards/`, root)).filter((f) => f.endsWith('.json'))).toEqual(['shop.json'])
  })

  it('when a panel or query names a datasource, then it is a provisioned one, by uid and type', () => {
    const provisioned = datasources.map((d) => `${d.type}/${d.uid}`)
    const used = new Set(panels(dashboard.panels).flatMap((p) => [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]).filter((d) => d !== undefined).map((d) => `${d.type}/${d.uid}`))
    expect([...used].sort()).toEqual(provisioned.sort())
  })

  it('when loaded by Grafana 10 or 11, then the schema is current and every query panel has a datasource', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38)
    expect(dashboard.uid).toBe('shop-overview')
    const withQueries = panels(dashboard.panels).filter((p) => p.targets?.length)
    expect(withQueries.filter((p) => !p.datasource).map((p) => p.title)).toEqual([])
  })

  it('when an operator looks, then orders/s, latency by route, time to final, outbox, DLQ, cache, RSS and event loop lag are there', () => {
    const text = dashboardQueries().map((q) => `${q.panel}\n${q.expr}`).join('\n')
    for (const wanted of [
      /shop_orders_placed_total/,
      /shop_orders_settled_total\{status="confirmed"\}/,
      /shop_orders_settled_total\{status="rejected"\}/,
      /histogram_quantile\(0\.5, sum by \([^)]*route[^)]*\) \(rate\(http_request_duration_seconds_bucket/,
      /histogram_quantile\(0\.99, sum by \([^)]*route[^)]*\) \(rate\(http_request_duration_seconds_bucket/,
      /histogram_quantile\(0\.99, sum by \(le\) \(rate\(shop_order_time_to_final_seconds_bucket/,
      /shop_outbox_rows/,
      /shop_outbox_oldest_age_seconds/,
      /max by \(queue\) \(shop_dead_letter_queue_messages\)/,
      /shop_cache_requests_total\{result="hit"\}/,
      /by \(service, instance\) \(process_resident_memory_bytes\)/,
      /by \(service, instance\) \(nodejs_eventloop_lag/,
    ])
      expect(text).toMatch(wanted)
  })
})

describe('metricNames (the PromQL extractor)', () => {
  it('when an expression aggregates a histogram by labels over a range, then only the metric is named', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (service, route, le) (rate(http_request_duration_seconds_bucket{status!~"5.."}[$__rate_interval])))')).toEqual([
      'http_request_duration_seconds_bucket',
    ])
  })

  it('when two metrics are compared or divided, then both are named, once each, and no keyword or label', () => {
    expect(metricNames('max(shop_orders_pending) > 0 and sum(rate(shop_orders_settled_total[5m])) == 0')).toEqual(['shop_orders_pending', 'shop_orders_settled_total'])
    expect(metricNames('sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.01')).toEqual([
      'http_requests_total',
    ])
    expect(metricNames('up')).toEqual(['up'])
    expect(metricNames('max by (queue) (shop_dead_letter_queue_messages offset 5m)')).toEqual(['shop_dead_letter_queue_messages'])
  })

  it('when every dashboard and alert query is read, then each names at least one metric', () => {
    const queries = [...dashboardQueries(), ...alertQueries()]
    expect(queries.length).toBeGreaterThan(20)
    expect(queries.filter((q) => metricNames(q.expr).length === 0)).toEqual([])
  })

  it('when a /metrics text declares a histogram or a counter without samples, then its names count as exposed', () => {
    const text = ['# TYPE a_seconds histogram', 'a_seconds_bucket{le="1"} 0', '# TYPE b_total counter', 'c 1', ''].join('\n')
    expect([...exposedNames(text)].sort()).toEqual(['a_seconds', 'a_seconds_bucket', 'a_seconds_count', 'a_seconds_sum', 'b_total', 'c'])
  })
})

