import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { alertQueries, dashboardQueries, exposedNames, metricNames } from '@shop/testkit/promql'
import { shopWorld, type ShopWorld } from '../worlds.ts'

// Every metric the Grafana dashboard (deploy/observability/grafana/dashboards/shop.json) and the
// alert rules (deploy/prometheus/alerts.yml) query is one the services really expose: both are
// booted, an order goes through the saga (so the histograms and counters have series), and
// each query's metric names are looked up in the two services' /metrics.
let w: ShopWorld
let exposed: { product: Set<string>; order: Set<string> }
beforeAll(async () => {
  w = await shopWorld()
  const p = await w.product(5)
  const placed = await w.orders.post('/orders', { productId: p.id, qty: 1 })
  expect(placed.status).toBe(201)
  expect((await w.settled(placed.body.id)).status).toBe('confirmed')
  await w.products.get(`/products/${p.id}`) // a cache read
  const scrape = async (base: string) => exposedNames(await (await fetch(`${base}/metrics`)).text())
  exposed = { product: await scrape(w.products.base), order: await scrape(w.orders.base) }
})
afterAll(() => w.stop())

const missing = (queries: { expr: string }[]) =>
  queries.flatMap((q) => metricNames(q.expr).filter((m) => !exposed.product.has(m) && !exposed.order.has(m)).map((metric) => ({ metric, expr: q.expr })))

describe('dashboard and alert queries against the live /metrics', () => {
  it('when both services are scraped, then each exposes its RED, process and plumbing metrics', () => {
    for (const names of [exposed.product, exposed.order])
      for (const m of ['http_requests_total', 'http_request_duration_seconds_bucket', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'shop_outbox_rows'])
        expect(names).toContain(m)
    expect(exposed.order).toContain('shop_order_time_to_final_seconds_bucket')
    expect(exposed.product).toContain('shop_cache_requests_total')
  })

  it('when every dashboard panel query is read, then every metric it names is exposed by product or order', () => {
    const queries = dashboardQueries()
    expect(queries.length).toBeGreaterThanOrEqual(20)
    expect(missing(queries)).toEqual([])
  })

  it('when every alert rule is read, then every metric its expression names is exposed by product or order', () => {
    const queries = alertQueries()
    expect(queries.length).toBeGreaterThanOrEqual(5)
    expect(missing(queries)).toEqual([])
  })

  it('when a query names a metric no service has, then the check reports it (it can fail)', () => {
    expect(missing([{ expr: 'sum(rate(shop_orders_placed_total[5m])) / sum(rate(shop_orders_plaed_total[5m]))' }])).toEqual([
      { metric: 'shop_orders_plaed_total', expr: 'sum(rate(shop_orders_placed_total[5m])) / sum(rate(shop_orders_plaed_total[5m]))' },
    ])
  })
})
