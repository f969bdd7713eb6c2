import { PLACING_STEPS, type PlacingStep } from '@shop/order/placing-steps'
import { sample, scrape } from '@shop/testkit/promql'

/**
 * Where POST /orders spent its time while a scenario ran, step by step, from order's own
 * histogram `shop_order_placing_seconds{step}` (read before and after): access (arrival to the
 * handler: auth, rate limit, body), product_check, insert, cache_invalidation. Quantiles are
 * estimated from the buckets the way PromQL's histogram_quantile does (linear within a bucket),
 * so they are as coarse as the buckets. Nothing when order has no /metrics (METRICS=off).
 */
const NAME = 'shop_order_placing_seconds'
export type { PlacingStep }

/** cumulative counts by upper bound (seconds, `Infinity` last), the sum of seconds and the count */
export type StepHistogram = { buckets: [le: number, count: number][]; sum: number; count: number }
export type StepTimes = { n: number; meanMs: number; p50Ms: number; p99Ms: number }

/** The q-quantile of a cumulative histogram, interpolated linearly inside its bucket (as histogram_quantile). */
export function quantile(q: number, buckets: [number, number][]): number {
  const total = buckets.at(-1)?.[1] ?? 0
  if (!total) return NaN
  const rank = q * total
  let [lower, below] = [0, 0]
  for (const [le, count] of buckets) {
    if (count >= rank) return le === Infinity ? lower : lower + ((le - lower) * (rank - below)) / (count - below || 1)
    ;[lower, below] = [le, count]
  }
  return lower
}

function histogramsOf(exposition: string): Record<string, StepHistogram> {
  // this family's lines only, read once: every bucket below is looked up in them
  const text = exposition.split('\n').filter((line) => line.startsWith(NAME)).join('\n')
  const les = [...new Set([...text.matchAll(new RegExp(`^${NAME}_bucket\\{[^}]*le="([^"]+)"`, 'gm'))].map((m) => m[1]!))]
  const bound = (le: string) => (le === '+Inf' ? Infinity : Number(le))
  les.sort((a, b) => bound(a) - bound(b))
  return Object.fromEntries(
    PLACING_STEPS.map((step) => [
      step,
      {
        buckets: les.map((le) => [bound(le), sample(text, `${NAME}_bucket`, { step, le })] as [number, number]),
        sum: sample(text, `${NAME}_sum`, { step }),
        count: sample(text, `${NAME}_count`, { step }),
      },
    ]),
  )
}

/** What was observed between two readings of the same histogram. */
export function between(before: StepHistogram | undefined, after: StepHistogram): StepTimes | undefined {
  const n = after.count - (before?.count ?? 0)
  if (n <= 0) return undefined
  const buckets = after.buckets.map(([le, c], i) => [le, c - (before?.buckets[i]?.[1] ?? 0)] as [number, number])
  const ms = (s: number) => Math.round(s * 10_000) / 10 // 0.1 ms
  return { n, meanMs: ms((after.sum - (before?.sum ?? 0)) / n), p50Ms: ms(quantile(0.5, buckets)), p99Ms: ms(quantile(0.99, buckets)) }
}

export function placingMeter(orderUrl: string) {
  const snapshot = async () => {
    const text = await scrape(orderUrl)
    return text ? histogramsOf(text) : undefined
  }
  return {
    snapshot,
    /** each step's times since `before`; empty when nothing was placed or there are no metrics */
    async since(before: Awaited<ReturnType<typeof snapshot>>): Promise<Partial<Record<PlacingStep, StepTimes>>> {
      const after = await snapshot()
      if (!after) return {}
      const times: Partial<Record<PlacingStep, StepTimes>> = {}
      for (const step of PLACING_STEPS) {
        const t = between(before?.[step], after[step]!)
        if (t) times[step] = t
      }
      return times
    },
  }
}
