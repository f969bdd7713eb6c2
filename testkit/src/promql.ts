import { readFileSync } from 'node:fs'

// The PromQL that operators run against the services: the Grafana dashboard's panel queries and
// the alert rules. Tests hold every metric they name to the services' live /metrics.

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')

export const dashboardFile = 'deploy/observability/grafana/dashboards/shop.json'
export const alertsFile = 'deploy/prometheus/alerts.yml'

type Panel = { title?: string; targets?: { expr?: string }[]; panels?: Panel[] }

/** Every PromQL expression of the dashboard's panels (rows' nested panels too), with its panel title. */
export function dashboardQueries(json = read(dashboardFile)): { panel: string; expr: string }[] {
  const walk = (panels: Panel[]): { panel: string; expr: string }[] =>
    panels.flatMap((p) => [
      ...(p.targets ?? []).filter((t) => t.expr).map((t) => ({ panel: p.title ?? '', expr: t.expr! })),
      ...walk(p.panels ?? []),
    ])
  return walk((JSON.parse(json) as { panels: Panel[] }).panels)
}

/** Every alert rule's expression. */
export function alertQueries(yaml = read(alertsFile)): { alert: string; expr: string }[] {
  const { groups } = Bun.YAML.parse(yaml) as { groups: { rules: { alert: string; expr: string }[] }[] }
  return groups.flatMap((g) => g.rules.map((r) => ({ alert: r.alert, expr: r.expr })))
}

// Names followed by a space or bracket that are PromQL's own words, not metrics.
const keywords = new Set(
  [
    'sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio',
    'by without on ignoring group_left group_right and or unless bool offset atan2',
    'rate irate increase delta idelta deriv histogram_quantile abs ceil floor round clamp_min clamp_max vector scalar time',
    'absent absent_over_time avg_over_time max_over_time min_over_time sum_over_time count_over_time label_replace label_join',
    'inf nan',
  ].flatMap((line) => line.split(' ')),
)

/**
 * The metric names a PromQL expression selects: identifiers followed by `{`, `[`, `)`, whitespace
 * or the end, once strings, label matchers, ranges and `by (...)`-style label lists are removed,
 * and that are not PromQL's functions or keywords. Simple on purpose: enough for our queries.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '$1 ')
  const names = [...bare.matchAll(/(?<![\w:$.])([a-zA-Z_:][\w:]*)(?=[{[)\s]|$)/g)].map((m) => m[1]!)
  return [...new Set(names.filter((n) => !keywords.has(n.toLowerCase())))]
}

/** A service's `/metrics` text, or undefined when it has none (METRICS=off) or does not answer. */
export async function scrape(serviceUrl: string): Promise<string | undefined> {
  const res = await fetch(`${serviceUrl}/metrics`).catch(() => undefined)
  return res?.ok ? res.text() : undefined
}

/** The sum of a metric's samples whose labels include `labels` (text format, one sample per line). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const has = Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))
    if (has) sum += Number(m[3])
  }
  return sum
}

/**
 * The metric names a Prometheus text exposition offers: every sample's name, and for each family
 * declared by `# TYPE` its name (a histogram's `_bucket`, `_sum` and `_count` too), so a labelled
 * counter that has not counted anything yet still counts as there.
 */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line)
    if (type) {
      const [, name, kind] = type
      names.add(name!)
      if (kind === 'histogram' || kind === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`)
      continue
    }
    const sample = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line)
    if (sample) names.add(sample[1]!)
  }
  return names
}
