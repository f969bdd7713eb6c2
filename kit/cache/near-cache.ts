/**
 * Hot cache entries held in process memory, kept true by Redis' client-side caching
 * invalidations. Written here rather than with node-redis' `clientSideCache` option: that cache
 * answers from memory without asking Redis whether an invalidation is still on its way, so a read
 * that starts after a write has finished can still see the old value; the PING below closes that
 * gap, and the cache here is bounded by bytes as well as entries.
 */
import { createClient } from 'redis'
import type { Log } from '../observability/log.ts'
import type { Metrics } from '../observability/metrics.ts'
import { withTimeout } from '../core/retry.ts'
import { connectRedis, sentinelOf } from './redis.ts'

export type NearCacheLimits = { maxEntries: number; maxBytes: number }

/**
 * Values of Redis keys held in this process, for as long as Redis vouches for them: the keys are
 * read on a RESP3 connection with CLIENT TRACKING on, so Redis tells this process the moment any
 * client (any replica) changes one, and the copy is dropped. Bounded by entries and bytes (least
 * recently used first out).
 *
 * Never a stale answer. Before a read uses what is held, it waits for a PING on the tracking
 * connection that was sent after the read began: Redis answers in order, so every invalidation
 * of a write that finished before this read began has arrived by then. Reads waiting at the same
 * moment share one PING (one small round trip for many reads, instead of one MGET of the whole
 * entry each). Copies read while an invalidation was on its way are not kept; and when the
 * connection is not ready (Redis restarting, cut away) everything is dropped and reads fail, so
 * the caller goes to the database. A connection that dies silently is found by that same PING:
 * one not answered within a second drops everything and sends the read to the database.
 */
export function createNearCache({ url, limits, log, metrics }: { url: string; limits: NearCacheLimits; log: Log; metrics?: Metrics }) {
  // Under Sentinel (`url` is connectRedis's redis-sentinel:// address) the near cache turns
  // itself off and every read is one MGET on the master: the tracking connection would have to
  // follow the master too, and a read would have to prove it still talks to the master (a
  // demoted one keeps answering PING and reporting invalidations, late, as a replica).
  if (sentinelOf(url)) return readThrough(url, log)
  const client = createClient({
    url,
    RESP: 3,
    emitInvalidate: true,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
  })
  const held = new Map<string, { value: string | null; bytes: number }>() // in use order: oldest first
  let bytes = 0
  let invalidations = 0
  const requests = metrics?.counter('shop_near_cache_requests_total', 'Reads answered from process memory (hit) or Redis (miss)', ['result'])
  metrics?.gauge('shop_near_cache_bytes', 'Bytes of values held in process memory', async (g) => g.set(bytes))

  const drop = (key: string) => {
    const e = held.get(key)
    if (!e) return
    held.delete(key)
    bytes -= e.bytes
  }
  const clear = () => {
    invalidations++
    held.clear()
    bytes = 0
  }
  const keep = (key: string, value: string | null) => {
    drop(key)
    const size = key.length + (value?.length ?? 0)
    if (size > limits.maxBytes) return
    held.set(key, { value, bytes: size })
    bytes += size
    for (const oldest of held.keys()) {
      if (held.size <= limits.maxEntries && bytes <= limits.maxBytes) break
      drop(oldest)
    }
  }

  client.on('invalidate', (key: unknown) => {
    invalidations++
    if (key === null) clear()
    else drop(String(key))
  })
  for (const event of ['error', 'end', 'reconnecting'] as const) client.on(event, clear)
  client.on('error', () => {}) // logged by the main cache client; here it only means: forget
  const connected = client.connect().catch((err) => log.warn('redis (near cache) connect failed', { err: String(err) }))
  // the next PING not sent yet: reads join it until it leaves, later reads wait for the one after
  let nextBarrier: Promise<unknown> | undefined
  const barrier = () =>
    (nextBarrier ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      nextBarrier = undefined
      return withTimeout(client.ping(), 1000, 'no answer from Redis within 1 s').catch((err) => {
        clear()
        throw err
      })
    }))

  return {
    /** The values of `keys` (null: no such key), from memory where possible, else one MGET. */
    async mGet(keys: string[]): Promise<(string | null)[]> {
      if (!client.isReady) throw new Error('redis is not reachable')
      await barrier() // every invalidation of a write that finished before now is in
      if (!client.isReady) throw new Error('redis is not reachable')
      const found = keys.map((k) => held.get(k))
      if (found.every((e) => e !== undefined)) {
        requests?.inc({ result: 'hit' })
        for (const k of keys) keep(k, held.get(k)!.value) // most recently used
        return found.map((e) => e!.value)
      }
      requests?.inc({ result: 'miss' })
      const before = invalidations
      const values = await client.mGet(keys)
      // an invalidation handled meanwhile may concern these very keys: do not keep what was read
      if (invalidations === before && client.isReady) keys.forEach((k, i) => keep(k, values[i] ?? null))
      return values
    },
    /**
     * What this process just wrote to `key`, so its next read does not wait for Redis to report
     * its own write. Safe for generation-checked entries: an entry only counts under the current
     * generation, and the generation key is never written this way.
     */
    remember(key: string, value: string) {
      if (client.isReady) keep(key, value)
    },
    async close() {
      if (client.isReady) await client.close()
      else if (client.isOpen) client.destroy()
      await connected
    },
  }
}

/** What the near cache is under Sentinel: nothing held, reads straight to the master (1 s bound, see redis.ts). */
function readThrough(url: string, log: Log) {
  const redis = connectRedis(url, log)
  return {
    mGet: (keys: string[]): Promise<(string | null)[]> => redis.client.mGet(keys),
    remember(_key: string, _value: string) {},
    close: () => redis.close(),
  }
}
