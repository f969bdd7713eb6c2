import autocannon from 'autocannon'
import type { CpuShare } from './cpu.ts'
import { openLoop, percentile } from './open-loop.ts'
import type { NearCacheReads } from './near-cache.ts'
import type { PlacingStep, StepTimes } from './placing.ts'

export type Scenario = {
  name: string
  /** the request and duration: what autocannon runs for a closed loop, and what the open-loop sender reads for a constant rate */
  options: autocannon.Options
  /** for a constant-rate run: the intended req/s */
  intendedRate?: number
  /** keep every answer's latency to the µs as well (autocannon's own percentiles are whole ms) */
  fine?: boolean
}

export type Outcome = {
  scenario: string
  rps: number
  p50: number
  p90: number
  p99: number
  max: number
  errors: number
  timeouts: number
  non2xx: number
  total: number
  seconds: number
  intendedRate?: number
  achievedRatio?: number
  /** for a `fine` scenario: the 2xx answers' latency percentiles in ms, to 0.01 ms */
  fineMs?: { p50: number; p90: number; p99: number; max: number }
  /** where the CPU went while it ran (Linux) */
  cpu?: CpuShare
  /** reads through each service's near cache while it ran */
  nearCache?: Record<string, NearCacheReads>
  /** POST /orders' time by step (order's shop_order_placing_seconds) */
  placing?: Partial<Record<PlacingStep, StepTimes>>
}


export type Urls = { product: string; order: string; bff: string }
export type Seed = { hotProductId: string; coldProductIds: string[]; closedLoopProductId: string; constantRateProductId: string; listProductId: string }

/** The runs, in order. Durations in seconds; `rate` is the constant-rate target (req/s). */
export function scenarios(
  urls: Urls,
  seed: Seed,
  { seconds, rate, constantSeconds, tokens }: { seconds: number; rate: number; constantSeconds: number; tokens: { customer: string; staff: string } },
): Scenario[] {
  let cold = 0
  const json = { 'content-type': 'application/json', authorization: `Bearer ${tokens.customer}` }
  const order = (productId: string) => JSON.stringify({ productId, qty: 1 })
  return [
    { name: 'GET /health (product)', options: { url: `${urls.product}/health`, connections: 50, duration: seconds } },
    // the same cached read straight to product and through the bff, one after the other: with 50
    // connections (what the bff costs the machine) and with one, a request at a time (the hop's
    // own latency, nothing queued): what the bff adds (report.ts's bffTable)
    { name: 'GET /products/:id cache hit', fine: true, options: { url: `${urls.product}/products/${seed.hotProductId}`, connections: 50, duration: seconds } },
    { name: 'GET /products/:id via bff', fine: true, options: { url: `${urls.bff}/products/${seed.hotProductId}`, connections: 50, duration: seconds } },
    { name: 'GET /products/:id cache hit, 1 connection', fine: true, options: { url: `${urls.product}/products/${seed.hotProductId}`, connections: 1, duration: seconds } },
    { name: 'GET /products/:id via bff, 1 connection', fine: true, options: { url: `${urls.bff}/products/${seed.hotProductId}`, connections: 1, duration: seconds } },
    {
      name: 'GET /products/:id 10% miss',
      options: {
        url: urls.product,
        connections: 50,
        duration: seconds,
        requests: [
          {
            method: 'GET',
            // every tenth request reads a product never read before: a real miss
            setupRequest: (req) => {
              const miss = Math.random() < 0.1 && cold < seed.coldProductIds.length
              return { ...req, path: `/products/${miss ? seed.coldProductIds[cold++] : seed.hotProductId}` }
            },
          },
        ],
      },
    },
    {
      name: 'POST /orders closed loop',
      options: { url: `${urls.order}/orders`, method: 'POST', headers: json, body: order(seed.closedLoopProductId), connections: 50, duration: seconds },
    },
    {
      name: `POST /orders at ${rate}/s`,
      intendedRate: rate,
      options: {
        url: `${urls.order}/orders`,
        method: 'POST',
        headers: json,
        body: order(seed.constantRateProductId),
        // sent by openLoop (a true constant arrival rate), not by autocannon
        duration: constantSeconds,
      },
    },
    {
      name: 'GET /orders/product/:id',
      options: {
        url: `${urls.order}/orders/product/${seed.listProductId}?limit=20`,
        headers: { authorization: `Bearer ${tokens.staff}` },
        connections: 50,
        duration: seconds,
      },
    },
    {
      // the bff asks product for the product and order for its page of orders, in parallel
      name: 'GET /order-summary/:id',
      fine: true,
      options: {
        url: `${urls.bff}/order-summary/${seed.listProductId}`,
        headers: { authorization: `Bearer ${tokens.staff}` },
        connections: 50,
        duration: seconds,
      },
    },
  ]
}

export async function run(s: Scenario, progress: boolean): Promise<Outcome> {
  if (s.intendedRate) return runOpenLoop(s, s.intendedRate)
  // at run time the instance is both an event emitter (for the progress bar) and a promise
  const instance = autocannon({ ...s.options, timeout: 10 }) as unknown as autocannon.Instance & Promise<autocannon.Result>
  // autocannon records whole ms; each answer's own time is in its 'response' event (2xx kept, as autocannon keeps)
  const fine: number[] = []
  if (s.fine) instance.on('response', (_client, status, _bytes, ms) => void (status >= 200 && status < 300 && fine.push(ms)))
  if (progress) autocannon.track(instance, { renderProgressBar: true, renderResultsTable: false, renderLatencyTable: false, outputStream: process.stderr })
  const r = await instance
  const total = r.requests.total
  const rps = total / r.duration
  const outcome: Outcome = {
    scenario: s.name,
    rps: Math.round(rps),
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    total,
    seconds: r.duration,
  }
  if (s.fine) outcome.fineMs = fineMs(fine.sort((a, b) => a - b))
  return outcome
}

/** percentiles of sorted latencies (ms), to 0.01 ms */
function fineMs(sorted: number[]): Outcome['fineMs'] {
  if (!sorted.length) return undefined
  const at = (q: number) => Math.round(percentile(sorted, q) * 100) / 100
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) }
}

/** A constant-rate scenario: requests sent when due, latency counted from then (see open-loop.ts). */
async function runOpenLoop(s: Scenario, rate: number): Promise<Outcome> {
  const { url, method, headers, body, duration } = s.options
  const r = await openLoop({ url: String(url), method, headers: headers as Record<string, string>, body: body as string, rate, seconds: Number(duration) })
  const at = (q: number) => Math.round(percentile(r.latencies, q))
  const rps = r.answered / r.seconds
  return {
    scenario: s.name,
    rps: Math.round(rps),
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: at(1),
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    total: r.sent,
    seconds: r.seconds,
    intendedRate: rate,
    achievedRatio: rps / rate,
  }
}
