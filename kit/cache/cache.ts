/**
 * Cache-aside entries in Redis that a write makes stale at once (generation counters), with an
 * optional near cache in process memory (near-cache.ts).
 */
import type { Log } from '../observability/log.ts'
import type { Metrics } from '../observability/metrics.ts'
import { leaseTiming, type LeaseTiming } from './leases.ts'
import { createNearCache, type NearCacheLimits } from './near-cache.ts'
import { sentinelOf, type Redis } from './redis.ts'

/** How long a write waits under Sentinel for its INCR to reach a master: a failover's length. */
const SENTINEL_FAILOVER_MS = 10_000

export type Cache = {
  /**
   * Cache-aside read of one entry in a namespace (say `product:<id>`). Loads on a miss and
   * stores the result; `undefined` results are not stored. Redis being down is a miss, not an error.
   */
  read<T>(namespace: string, variant: string, load: () => Promise<T | undefined>): Promise<{ value: T | undefined; hit: boolean }>
  /** Makes every entry of the namespaces stale at once, however many variants were cached. */
  invalidate(...namespaces: string[]): Promise<void>
  /** Stops the near cache; the Redis connection is its owner's to close. */
  close(): Promise<void>
}

type Entry = { g: string; v: unknown }

/**
 * Each namespace has a generation counter; an entry is valid only while it carries the current
 * generation. Invalidating is one INCR, and a reader that loaded from the database just before a
 * write stores its value under the old generation, so it can never be served: a read after a
 * write never sees the old value. Counters do not expire (one small key per product), so a
 * generation is never reused; entries do, after `ttlSeconds`.
 */
export function createCache({
  redis,
  prefix,
  ttlSeconds,
  log,
  metrics,
  nearLimits = { maxEntries: 0, maxBytes: 0 },
  lease = leaseTiming(),
}: {
  redis: Redis
  prefix: string
  ttlSeconds: number
  log: Log
  metrics?: Metrics
  /** no entries (the default): no near cache */
  nearLimits?: NearCacheLimits
  /** the near cache's read leases: how long, and the clock drift and margin allowed for */
  lease?: LeaseTiming
}): Cache {
  // hot entries also in process memory, dropped the moment Redis says they changed
  const near = nearLimits.maxEntries > 0 ? createNearCache({ redis, prefix, limits: nearLimits, lease, log, metrics }) : undefined
  const { client, warn } = redis
  const genKey = (ns: string) => `${prefix}${ns}:gen`
  const entryKey = (ns: string, variant: string) => `${prefix}${ns}:${variant}`

  // Writes that land together share one INCR: it is sent after every caller's commit, so it
  // covers them all (under load, hundreds of orders of one product per second need a few).
  const bumping = new Map<string, Promise<boolean>>()

  const loads = new Map<string, Promise<unknown>>()
  // namespaces written while Redis was away: their INCR is sent once it is back, and until then
  // their reads bypass the cache (whatever Redis still holds for them is old)
  const missed = new Set<string>()
  client.on('ready', () => {
    for (const ns of missed)
      client.incr(genKey(ns)).then(
        () => missed.delete(ns),
        () => {},
      )
  })
  // The write waits for its INCR, so that the fence after it means something: a connection being
  // re-established (killed, a blip) refuses commands at once, and under Sentinel a failover takes
  // seconds. The INCR is tried again for up to a second, or under Sentinel for as long as a
  // failover may take. Redis down longer is a write Redis was down for (docs/limits.md).
  const sentinel = sentinelOf(redis.url) !== undefined
  const incrFor = sentinel ? SENTINEL_FAILOVER_MS : 1000
  const incrSoon = async (key: string) => {
    const deadline = performance.now() + incrFor
    for (;;) {
      try {
        await client.incr(key)
        if (sentinel) await replicated()
        return
      } catch (err) {
        if (performance.now() + 100 >= deadline) throw err
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }
  // Under Sentinel, replication is asynchronous: an INCR the master took but did not pass on is
  // lost with it in a failover. So the INCR counts once a replica has it too (WAIT), when the
  // master has one that keeps up; without one there is nothing a failover could promote.
  let replicaKeepsUp = true
  let probeAgainAt = 0
  const replicated = async () => {
    if (!replicaKeepsUp && performance.now() < probeAgainAt) return
    replicaKeepsUp = (await client.wait(1, 100)) >= 1
    if (!replicaKeepsUp) probeAgainAt = performance.now() + 5000
  }
  const bump = (ns: string) => {
    let pending = bumping.get(ns)
    if (!pending) {
      pending = new Promise((resolve) => setImmediate(resolve))
        .then(() => {
          bumping.delete(ns)
          return incrSoon(genKey(ns))
        })
        .then(
          () => true,
          (err) => {
            missed.add(ns)
            warn('cache invalidation failed; sent again once Redis is back', { ns, err: String(err) })
            return false
          },
        )
      bumping.set(ns, pending)
    }
    return pending
  }

  return {
    async read(ns, variant, load) {
      let gen: string | null = null
      if (missed.has(ns)) return { value: await load(), hit: false }
      try {
        const keys = [genKey(ns), entryKey(ns, variant)]
        const [g, raw] = near ? await near.mGet(keys) : await client.mGet(keys)
        gen = g ?? '0'
        const entry = raw ? (JSON.parse(raw) as Entry) : undefined
        if (entry && entry.g === gen) {
          metrics?.cache.inc({ result: 'hit' })
          return { value: entry.v as never, hit: true }
        }
      } catch {
        gen = null // redis is down: go to the database and do not try to store
      }
      metrics?.cache.inc({ result: 'miss' })
      if (gen === null) return { value: await load(), hit: false }
      // readers that missed the same generation together share one load (and one store)
      const key = `${entryKey(ns, variant)}@${gen}`
      let loading = loads.get(key)
      if (!loading) {
        const g = gen
        loading = load()
          .then((value) => {
            if (value !== undefined) {
              const raw = JSON.stringify({ g, v: value } satisfies Entry)
              // held here at once, so that this process' next read is a hit even before Redis has
              // it (safe: it counts only under generation g); then stored for the other replicas
              near?.remember(entryKey(ns, variant), raw)
              client.set(entryKey(ns, variant), raw, { EX: ttlSeconds }).catch(() => {})
            }
            return value
          })
          .finally(() => loads.delete(key))
        loads.set(key, loading)
      }
      return { value: (await loading) as never, hit: false }
    },
    async invalidate(...namespaces) {
      const sent = await Promise.all(namespaces.map(bump))
      // and no replica answers the old value from memory any more (its lease ended or it dropped
      // it). Not when no INCR reached Redis: nothing changed there to wait for, and that write
      // is one Redis was down for (docs/limits.md).
      if (sent.some(Boolean)) await near?.fence()
    },
    async close() {
      await near?.close()
    },
  }
}
