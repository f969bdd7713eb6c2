import { exposedNames, sample, scrape } from '@shop/testkit/promql'

/**
 * The near cache's hit ratio while a scenario ran, from each service's own `/metrics`
 * (`shop_near_cache_requests_total{result="hit"|"miss"}`): reads answered from process memory
 * over all reads that went through it. Nothing when a service has no /metrics (METRICS=off) or
 * no near cache (NEAR_CACHE_MAX_ENTRIES=0).
 */
const NAME = 'shop_near_cache_requests_total'

export type NearCacheReads = { hits: number; misses: number }

async function readsOf(url: string): Promise<NearCacheReads | undefined> {
  const text = await scrape(url)
  if (!text || !exposedNames(text).has(NAME)) return undefined
  return { hits: sample(text, NAME, { result: 'hit' }), misses: sample(text, NAME, { result: 'miss' }) }
}

export function nearCacheMeter(services: Record<string, string>) {
  const snapshot = async () => Object.fromEntries(await Promise.all(Object.entries(services).map(async ([name, url]) => [name, await readsOf(url)] as const)))
  return {
    snapshot,
    /** reads through each service's near cache since `before` (services without one left out) */
    async since(before: Awaited<ReturnType<typeof snapshot>>): Promise<Record<string, NearCacheReads>> {
      const after = await snapshot()
      const reads: Record<string, NearCacheReads> = {}
      for (const [name, now] of Object.entries(after)) {
        if (!now) continue
        const then = before[name] ?? { hits: 0, misses: 0 }
        const delta = { hits: now.hits - then.hits, misses: now.misses - then.misses }
        if (delta.hits + delta.misses > 0) reads[name] = delta
      }
      return reads
    },
  }
}

export const hitPercent = ({ hits, misses }: NearCacheReads) => (hits + misses ? (100 * hits) / (hits + misses) : 0)
