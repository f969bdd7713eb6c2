/**
 * Hot cache entries held in process memory, kept true by Redis' client-side caching
 * invalidations and by read leases (leases.ts). Written here rather than with node-redis'
 * `clientSideCache` option: that cache answers from memory without knowing whether an
 * invalidation is still on its way, so a read that starts after a write has finished can still
 * see the old value. Here a hit is answered from memory only under a lease every writer waits on,
 * else after a PING; and the cache is bounded by bytes as well as entries.
 */
import { createClient } from 'redis'
import type { Log } from '../observability/log.ts'
import type { Metrics } from '../observability/metrics.ts'
import { withTimeout } from '../core/retry.ts'
import { createLeases, type LeaseRedis, type LeaseTiming } from './leases.ts'
import { reconnecting, sentinelOf, type Redis, type RedisSentinelTarget } from './redis.ts'

export type NearCacheLimits = { maxEntries: number; maxBytes: number }

/**
 * Values of Redis keys held in this process, for as long as Redis vouches for them: the keys are
 * read on a RESP3 connection with CLIENT TRACKING on, so Redis tells this process the moment any
 * client (any replica) changes one, and the copy is dropped. Bounded by entries and bytes (least
 * recently used first out).
 *
 * Never a stale answer. While this process holds a read lease (leases.ts), a hit is answered
 * from memory at once: every writer waits, before it answers, until this process has dropped
 * what it changed or the lease has ended. Without a lease (not yet renewed, Redis cut away, the
 * process frozen past it), a read first waits for a PING on the tracking connection sent after
 * the read began: Redis answers in order, so every invalidation of a write that finished before
 * the read began has arrived by then. Reads waiting at the same moment share one PING. Copies read
 * while an invalidation was on its way are not kept; and when the connection is not ready (Redis
 * restarting, cut away) everything is dropped and reads fail, so the caller goes to the database.
 * A connection that dies silently is found by that same PING: one not answered within a second
 * drops everything and sends the read to the database.
 */
export function createNearCache({
  redis,
  prefix,
  limits,
  lease,
  log,
  metrics,
}: {
  redis: Redis
  /** the cache's key prefix: the leases' keys are `<prefix>near:…` */
  prefix: string
  limits: NearCacheLimits
  lease: LeaseTiming
  log: Log
  metrics?: Metrics
}) {
  const { url } = redis
  const sentinel = sentinelOf(url)
  // under Sentinel a lost connection is not tried again at the same address: `follow` replaces it
  const socket = (reconnect: boolean) => (reconnect ? reconnecting : { ...reconnecting, reconnectStrategy: false as const })
  // the tracking connection and the leases' subscriber, to REDIS_URL, or under Sentinel to the
  // master the Sentinels name now (built again whenever they name another, see `follow`)
  const open = (address: string) => ({
    client: createClient({ url: address, RESP: 3, emitInvalidate: true, disableOfflineQueue: true, socket: socket(!sentinel) }),
    subscriber: createClient({ url: address, socket: socket(!sentinel) }),
  })
  let { client, subscriber } = open(sentinel ? 'redis://0.0.0.0:0' : url) // under Sentinel, replaced before use
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

  const leaseKeys = `${prefix}near:`
  const leases = createLeases({
    prefix,
    main: redis.client as unknown as LeaseRedis,
    tracking: () => (client.isReady ? (client as unknown as LeaseRedis) : undefined),
    timing: lease,
    log,
  })
  /** Connects a pair, with what this cache listens to on them; resolves once both are tried. */
  const attach = (c: typeof client, sub: typeof subscriber) => {
    c.on('invalidate', (key: unknown) => {
      if (key !== null && String(key).startsWith(leaseKeys)) return // the leases' own keys, read as proofs
      invalidations++
      if (key === null) clear()
      else drop(String(key))
    })
    for (const event of ['error', 'end', 'reconnecting'] as const) c.on(event, clear)
    c.on('error', () => {}) // logged by the main cache client; here it only means: forget
    sub.on('error', () => {})
    return Promise.all([
      c.connect().catch((err) => log.warn('redis (near cache) connect failed', { err: String(err) })),
      // the fences' wake-ups and acknowledgements (a subscribed connection can do nothing else);
      // node-redis subscribes again after a reconnect
      sub
        .connect()
        .then(() => Promise.all([sub.subscribe(leases.channels.sync, leases.channels.onSync), sub.subscribe(leases.channels.ack, leases.channels.onAck)]))
        .catch((err) => log.warn('redis (near cache leases) connect failed', { err: String(err) })),
    ])
  }
  let closing = false
  const shut = async (c: typeof client) => {
    if (c.isReady) await c.close().catch(() => {})
    else if (c.isOpen) c.destroy()
  }
  let connected: Promise<unknown>
  let following: ReturnType<typeof setInterval> | undefined
  if (!sentinel) connected = attach(client, subscriber)
  else {
    // Under Sentinel: a pair to the master the Sentinels name, replaced when they name another or
    // it is lost. Memory answers only under a lease renewed on the master (through the service's
    // own connection, which follows it), and a new lease is proven on the tracking connection;
    // without a lease, reads go to the master through that same connection (see mGet).
    let master = ''
    const follow = async () => {
      if (closing) return
      const now = await masterOf(sentinel).catch(() => undefined)
      if (!now || (now === master && client.isReady && subscriber.isReady)) return
      master = now
      const [oldClient, oldSub] = [client, subscriber]
      clear()
      ;({ client, subscriber } = open(masterUrl(sentinel, now)))
      await Promise.all([shut(oldClient), shut(oldSub)])
      await attach(client, subscriber)
    }
    connected = follow()
    following = setInterval(() => void follow(), 1000)
    following.unref?.()
  }
  void leases.tick()
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
      // under a lease, every write that finished before now has had its invalidation handled
      // here (its writer waited for that); without one, a PING proves it
      if (!leases.usable()) {
        // under Sentinel the tracking connection may be on a demoted master: ask the master
        if (sentinel) return redis.client.mGet(keys)
        await barrier()
        if (!client.isReady) throw new Error('redis is not reachable')
      }
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
    /** After a write's INCR: returns once no replica can answer the old value from memory. */
    fence: () => leases.fence(),
    async close() {
      closing = true
      leases.stop()
      clearInterval(following)
      // still trying to reach Redis: nothing to flush, just stop trying (then the tries settle)
      await Promise.all([shut(client), shut(subscriber)])
      await connected
    },
  }
}

/** `host:port` of the master the Sentinels name now (the first that answers). */
async function masterOf(target: RedisSentinelTarget): Promise<string> {
  const auth = target.password === undefined ? {} : { username: target.username, password: target.password }
  for (const node of target.nodes) {
    const ask = createClient({ socket: { host: node.host, port: node.port, connectTimeout: 1000, reconnectStrategy: false }, ...auth })
    ask.on('error', () => {})
    try {
      await ask.connect()
      const reply = (await withTimeout(ask.sendCommand(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', target.name]), 1000, 'no answer')) as [string, string] | null
      if (reply) return `${reply[0]}:${reply[1]}`
    } catch {
      // the next Sentinel
    } finally {
      if (ask.isOpen) ask.destroy()
    }
  }
  throw new Error('no Sentinel named a master')
}

/** redis://[user:password@]host:port: the master at `hostPort`, asked with the Sentinel target's credentials. */
function masterUrl(target: RedisSentinelTarget, hostPort: string): string {
  const auth = target.password === undefined ? '' : `${encodeURIComponent(target.username ?? '')}:${encodeURIComponent(target.password)}@`
  return `redis://${auth}${hostPort}`
}
