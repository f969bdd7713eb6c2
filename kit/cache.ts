import { createClient } from 'redis'
import type { Log } from './log.ts'
import type { Metrics } from './metrics.ts'
import { grouped } from './group.ts'
import { createNearCache, type NearCacheLimits } from './near-cache.ts'

export type Cache = {
  /**
   * Cache-aside read of one entry in a namespace (say `product:<id>`). Loads on a miss and
   * stores the result; `undefined` results are not stored. Redis being down is a miss, not an error.
   */
  read<T>(namespace: string, variant: string, load: () => Promise<T | undefined>): Promise<{ value: T | undefined; hit: boolean }>
  /** Makes every entry of the namespaces stale at once, however many variants were cached. */
  invalidate(...namespaces: string[]): Promise<void>
  /** Adds `by` (1) to a counter that lives `windowSeconds`; undefined when Redis is down. */
  count(key: string, windowSeconds: number, by?: number): Promise<number | undefined>
  check(): Promise<void>
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
export function createCache(
  url: string,
  prefix: string,
  ttlSeconds: number,
  log: Log,
  metrics?: Metrics,
  nearLimits: NearCacheLimits = { maxEntries: 0, maxBytes: 0 },
): Cache {
  // hot entries also in process memory, dropped the moment Redis says they changed
  const near = nearLimits.maxEntries > 0 ? createNearCache(url, nearLimits, log, metrics) : undefined
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
  })
  // Redis down is expected to pass (it reconnects on its own): say each thing at most every 5 s,
  // not once per command
  const lastWarning = new Map<string, number>()
  const warn = (msg: string, fields: Record<string, unknown>) => {
    if (Date.now() - (lastWarning.get(msg) ?? 0) < 5000) return
    lastWarning.set(msg, Date.now())
    log.warn(msg, fields)
  }
  client.on('error', (err) => warn('redis unavailable; serving without cache', { err: String(err) }))
  const connected = client.connect().catch((err) => log.warn('redis connect failed', { err: String(err) }))
  const genKey = (ns: string) => `${prefix}${ns}:gen`
  const entryKey = (ns: string, variant: string) => `${prefix}${ns}:${variant}`

  // Writes that land together share one INCR: it is sent after every caller's commit, so it
  // covers them all (under load, hundreds of orders of one product per second need a few).
  const bumping = new Map<string, Promise<void>>()

  // Counts that arrive while one is on its way go together in one MULTI (one round trip for
  // many requests); each caller still gets its own exact value, as if it had counted alone:
  // counts of one key in a group are one INCRBY of their sum, the k-th of n gets total - (n - k)
  // worth of what came after it.
  type Counting = { key: string; windowSeconds: number; by: number }
  const countTogether = grouped(async (counts: Counting[]): Promise<(number | undefined)[]> => {
    // a MULTI waits for a reconnection instead of failing at once like single commands do
    if (!client.isReady) {
      warn('redis unavailable; rate limits not applied', {})
      return counts.map(() => undefined)
    }
    const sums = new Map<string, { by: number; windowSeconds: number }>()
    for (const c of counts) {
      const s = sums.get(c.key)
      if (s) s.by += c.by
      else sums.set(c.key, { by: c.by, windowSeconds: c.windowSeconds })
    }
    try {
      const multi = client.multi()
      for (const [key, s] of sums) multi.incrBy(`${prefix}${key}`, s.by).expire(`${prefix}${key}`, s.windowSeconds, 'NX')
      const replies = await multi.exec()
      const totals = new Map([...sums.keys()].map((key, i) => [key, Number(replies[2 * i])]))
      // walk back from each key's total: the last caller of a key gets the total
      const answers: number[] = new Array(counts.length)
      for (let i = counts.length - 1; i >= 0; i--) {
        const c = counts[i]!
        answers[i] = totals.get(c.key)!
        totals.set(c.key, answers[i]! - c.by)
      }
      return answers
    } catch (err) {
      warn('redis unavailable; rate limits not applied', { err: String(err) })
      return counts.map(() => undefined)
    }
  })
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
  const bump = (ns: string) => {
    let pending = bumping.get(ns)
    if (!pending) {
      pending = new Promise((resolve) => setImmediate(resolve))
        .then(() => {
          bumping.delete(ns)
          return client.incr(genKey(ns))
        })
        .then(
          () => {},
          (err) => {
            missed.add(ns)
            warn('cache invalidation failed; sent again once Redis is back', { ns, err: String(err) })
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
              client.set(entryKey(ns, variant), raw, { EX: ttlSeconds }).then(() => near?.remember(entryKey(ns, variant), raw), () => {})
            }
            return value
          })
          .finally(() => loads.delete(key))
        loads.set(key, loading)
      }
      return { value: (await loading) as never, hit: false }
    },
    async invalidate(...namespaces) {
      await Promise.all(namespaces.map(bump))
    },
    count: (key, windowSeconds, by = 1) => countTogether({ key, windowSeconds, by }),
    async check() {
      await client.ping()
    },
    async close() {
      await near?.close()
      // still trying to reach Redis: nothing to flush, just stop trying
      if (client.isReady) await client.close()
      else if (client.isOpen) client.destroy()
      await connected
    },
  }
}
