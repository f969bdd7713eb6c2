import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promtoolFor } from '@shop/testkit'

// The alert rules: deploy/prometheus/alerts.yml passes promtool's check and its unit tests
// (alerts.test.yml: each alert fires on the series that should trip it, not on healthy ones),
// the PrometheusRule of deploy/k8s carries the same groups, and every metric the expressions use
// is one the services expose.
const dir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url))
const read = (path: string) => readFileSync(new URL(path, new URL('../../', import.meta.url)), 'utf8')
type Rule = { alert: string; expr: string; for: string; labels: { severity: string }; annotations: Record<string, string> }
type Groups = { groups: { name: string; rules: Rule[] }[] }
const alerts = Bun.YAML.parse(read('deploy/prometheus/alerts.yml')) as Groups
const rules = alerts.groups.flatMap((g) => g.rules)
// without promtool the checks that run it are skipped, and the run says so
const promtoolPath = promtoolFor(import.meta.path)
const promtool = (...args: string[]) => {
  const run = Bun.spawnSync([promtoolPath!, ...args], { cwd: dir, stdout: 'pipe', stderr: 'pipe' })
  return { ok: run.success, output: `${run.stdout}${run.stderr}` }
}

const metrics = {
  counter: ['http_requests_total', 'shop_orders_placed_total', 'shop_orders_settled_total', 'shop_messages_dead_lettered_total', 'shop_messages_failed_total'],
  gauge: ['shop_orders_pending', 'shop_outbox_rows', 'shop_outbox_oldest_age_seconds', 'shop_dead_letter_queue_messages', 'shop_consumer_attached', 'shop_amqp_blocked'],
  histogram: ['http_request_duration_seconds', 'shop_order_time_to_final_seconds'],
}
const exposed = new Set([...metrics.counter, ...metrics.gauge, ...metrics.histogram.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`])])

describe('deploy/prometheus/alerts.yml', () => {
  it.skipIf(!promtoolPath)('when promtool checks the rules, then they are valid', () => {
    const { ok, output } = promtool('check', 'rules', 'alerts.yml')
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`)
    expect(ok).toBe(true)
  })

  it.skipIf(!promtoolPath)('when promtool runs the unit tests, then every alert fires when it should and not before', () => {
    const { ok, output } = promtool('test', 'rules', 'alerts.test.yml')
    expect(output).toContain('SUCCESS')
    expect(ok).toBe(true)
    const tested = new Set([...read('deploy/prometheus/alerts.test.yml').matchAll(/alertname: (\w+)/g)].map((m) => m[1]))
    expect([...tested].sort()).toEqual(rules.map((r) => r.alert).sort())
  })

  it.skipIf(!promtoolPath)('when a rule is broken, then promtool says so (the check can fail)', () => {
    const broken = fileURLToPath(new URL('./fixtures/broken-alerts.yml', import.meta.url))
    const { ok, output } = promtool('check', 'rules', broken)
    expect(ok).toBe(false)
    expect(output).toContain('FAILED')
  })

  it('when alerts are listed, then saga lag, stuck orders, outbox backlog, dead letters, detached consumers, retrying handlers, a blocking broker and 5xx ratio are there, each for some minutes', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'ShopBrokerBlocking',
      'ShopConsumerDetached',
      'ShopDeadLetters',
      'ShopHighErrorRatio',
      'ShopMessagesRetrying',
      'ShopOutboxBacklog',
      'ShopPendingOrdersNotDraining',
      'ShopSagaSlow',
    ])
    for (const r of rules) {
      expect(['2m', '5m', '10m']).toContain(r.for)
      expect(['warning', 'critical']).toContain(r.labels.severity)
      expect(r.annotations.summary).toBeTruthy()
    }
  })

  it('when the expressions name metrics, then only the ones the services expose', () => {
    const used = new Set(rules.flatMap((r) => [...r.expr.matchAll(/\b(shop_\w+|http_\w+)\b/g)].map((m) => m[1]!)))
    expect([...used].filter((m) => !exposed.has(m))).toEqual([])
    expect(used.size).toBeGreaterThanOrEqual(6)
  })

  it('when the PrometheusRule is applied, then it carries exactly these groups', () => {
    const objects = read('deploy/k8s/components/monitoring/prometheusrule.yaml')
    const rule = Bun.YAML.parse(objects) as { kind: string; spec: Groups }
    expect(rule.kind).toBe('PrometheusRule')
    expect(rule.spec).toEqual(alerts)
  })
})
