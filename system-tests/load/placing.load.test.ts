import { afterAll, describe, expect, it } from 'bun:test'
import { createMetrics } from '@shop/kit/observability'
import { placingMeter, quantile } from './placing.ts'

// a histogram of that name made and written by the kit, as order's is, served as order serves /metrics
const metrics = createMetrics('order')
const placing = metrics.histogram('shop_order_placing_seconds', 'test', [0.001, 0.005, 0.01, 0.05], ['step'])
const server = Bun.serve({ port: 0, fetch: async () => new Response(await metrics.registry.metrics()) })
afterAll(() => server.stop(true))

describe("the bench's step times (POST /orders by step)", () => {
  it('when a quantile falls inside a bucket, then it is interpolated linearly as histogram_quantile does', () => {
    // 10 observations: 4 up to 1 ms, 6 more up to 5 ms, none above
    const buckets: [number, number][] = [[0.001, 4], [0.005, 10], [Infinity, 10]]
    expect(quantile(0.2, buckets)).toBeCloseTo(0.0005, 9) // 2 of 4 into [0, 1 ms]
    expect(quantile(0.7, buckets)).toBeCloseTo(0.001 + 0.004 * (3 / 6), 9) // 3 of 6 into (1, 5 ms]
    expect(quantile(0.5, [[0.001, 0], [Infinity, 2]])).toBe(0.001) // in +Inf: the highest finite bound
    expect(quantile(0.5, [[0.001, 0], [Infinity, 0]])).toBeNaN()
  })

  it('when orders are placed between two readings, then only those count, step by step', async () => {
    placing.observe({ step: 'insert' }, 0.5) // before the first reading: not this scenario's
    const meter = placingMeter(`http://127.0.0.1:${server.port}`)
    const before = await meter.snapshot()
    for (const s of [0.002, 0.002, 0.004, 0.004]) placing.observe({ step: 'insert' }, s)
    placing.observe({ step: 'access' }, 0.0004)
    const times = await meter.since(before)
    expect(Object.keys(times).sort()).toEqual(['access', 'insert'])
    expect(times.insert!.n).toBe(4)
    expect(times.insert!.meanMs).toBe(3)
    // all four in (1, 5 ms]: the median is half way, p99 near the top
    expect(times.insert!.p50Ms).toBe(3)
    expect(times.insert!.p99Ms).toBe(5)
    expect(times.access).toEqual({ n: 1, meanMs: 0.4, p50Ms: 0.5, p99Ms: 1 })
  })

  it('when the service has no /metrics, then there is nothing to report', async () => {
    const meter = placingMeter('http://127.0.0.1:9') // nothing listens on the discard port
    expect(await meter.since(await meter.snapshot())).toEqual({})
  })
})
