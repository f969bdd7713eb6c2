/**
 * The service's Redis connection, one per process, shared by the cache and the rate counters.
 */
import { createClient, createSentinel } from 'redis'
import { throttled, type Log } from '../observability/log.ts'
import { retrying, withTimeout } from '../core/retry.ts'

export type RedisSentinelTarget = { name: string; nodes: { host: string; port: number }[]; username?: string; password?: string }

/** The longest a command waits under Sentinel (see `bounded`). */
const SENTINEL_COMMAND_MS = 1000

/** How every connection of the kit to Redis connects: 2 s to connect, then again, backing off to 2 s. */
export const reconnecting = { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) }

const clientOptions = { disableOfflineQueue: true, socket: reconnecting }

/**
 * The service's Redis connection, shared by the cache and the rate counters (node-redis). It
 * never queues commands while Redis is away (`disableOfflineQueue`): a command then fails at once
 * and its caller goes without (reads to PostgreSQL, limits not applied), instead of waiting. It
 * reconnects on its own, backing off to 2 s. Warnings while it is away are said at most every 5 s
 * each, not once per command.
 *
 * With `sentinel` (or a `redis-sentinel://` address, see `sentinelAddress`) it asks the Sentinels
 * for the master and follows it through a failover. There a command issued while the master is
 * gone does wait, for the Sentinels to name the next one (node-redis retries it there), which
 * can take as long as the failover; so every command is bounded to 1 s, after which its caller
 * goes without as above. The user and password of `url` (REDIS_URL), if it has them, are the
 * ones the master, the replicas and the Sentinels are asked with. `url` is then the
 * `redis-sentinel://` address, for the near cache.
 */
export function connectRedis(url: string, log: Log, sentinel: RedisSentinelTarget | undefined = sentinelOf(url)) {
  const say = throttled(log.warn, 5000)
  const warn = (msg: string, fields: Record<string, unknown>) => say(msg, msg, fields)
  if (sentinel) return followMaster({ ...credentialsOf(url), ...sentinel }, log, warn)
  const client = plainClient(url)
  client.on('error', (err) => warn('redis unavailable; serving without cache', { err: String(err) }))
  const connected = client.connect().catch((err) => log.warn('redis connect failed', { err: String(err) }))
  return {
    client,
    warn,
    url,
    async check() {
      await client.ping()
    },
    async close() {
      // still trying to reach Redis: nothing to flush, just stop trying
      if (client.isReady) await client.close()
      else if (client.isOpen) client.destroy()
      await connected
    },
  }
}

const plainClient = (url: string) => createClient({ url, ...clientOptions })
type Client = ReturnType<typeof plainClient>

function followMaster(target: RedisSentinelTarget, log: Log, warn: (msg: string, fields: Record<string, unknown>) => void) {
  const auth = target.password === undefined ? {} : { username: target.username, password: target.password }
  const sentinel = createSentinel({
    name: target.name,
    sentinelRootNodes: target.nodes,
    nodeClientOptions: { ...clientOptions, ...auth },
    sentinelClientOptions: { socket: { connectTimeout: 2000 }, ...auth },
  })
  // the lost master's connection reports as client-error; the sentinel's own troubles as error
  sentinel.on('error', (err) => warn('redis unavailable; serving without cache', { err: String(err) }))
  sentinel.on('client-error', (event: { error?: unknown }) => warn('redis unavailable; serving without cache', { err: String(event.error) }))
  sentinel.on('topology-change', (event: { type: string; node?: { host: string; port: number } }) => {
    if (event.type === 'MASTER_CHANGE') log.info('redis master (from the Sentinels)', { master: `${event.node?.host}:${event.node?.port}` })
  })
  let closing = false
  // a first connect that finds no Sentinel gives up (and tears itself down): try again, for as
  // long as the process runs, as the plain client does
  const connected = retrying(() => (closing ? Promise.resolve() : sentinel.connect().then(() => {})), {
    retryAll: true,
    stop: () => closing,
    onRetry: (err) => warn('redis connect failed (Sentinel); retrying', { err: String(err) }),
  }).catch(() => {})
  // the cache and the counters use what both clients share: isReady, 'ready', mGet, set, incr,
  // multi().incrBy().expire().exec(), ping; replies are the same (RESP2 on both)
  const client = bounded(sentinel, SENTINEL_COMMAND_MS) as unknown as Client
  return {
    client,
    warn,
    url: sentinelAddress(target),
    async check() {
      await client.ping()
    },
    async close() {
      closing = true
      // still looking for a master: destroy ends that search at its next turn, close would wait for it
      if (sentinel.isOpen) await (sentinel.isReady ? sentinel.close() : sentinel.destroy()).catch(() => {})
      await connected
    },
  }
}

const lifecycle = new Set(['connect', 'close', 'destroy', 'quit', 'disconnect'])

/**
 * `target` whose commands settle within `ms`: a promise one of them returns rejects after that
 * (the command itself may still run later, which the cache and the counters allow: a late INCR
 * or SET of a generation-checked entry is harmless). A command that throws at once (no master
 * yet) rejects instead, so a caller's `.then` chain never throws. `multi()` is bounded the same.
 */
function bounded<T extends object>(target: T, ms: number): T {
  const proxy: T = new Proxy(target, {
    get(object, prop) {
      const value = Reflect.get(object, prop, object) as unknown
      if (typeof value !== 'function' || lifecycle.has(String(prop))) return typeof value === 'function' ? value.bind(object) : value
      return (...args: unknown[]) => {
        let result: unknown
        try {
          result = value.apply(object, args)
        } catch (err) {
          return Promise.reject(err)
        }
        if (result === object) return proxy // chaining: on(), once() ...
        if (result instanceof Promise) return withTimeout(result, ms, `no answer from Redis within ${ms} ms (Sentinel failover?)`)
        if (prop === 'multi' || prop === 'MULTI') return bounded(result as object, ms)
        return result
      }
    },
  })
  return proxy
}

/** A Sentinel target as one string (`redis-sentinel://[user:password@]host:port,host:port/name`), for what takes a URL. */
export function sentinelAddress(t: RedisSentinelTarget) {
  const auth = t.password === undefined ? '' : `${encodeURIComponent(t.username ?? '')}:${encodeURIComponent(t.password)}@`
  return `redis-sentinel://${auth}${t.nodes.map((n) => `${n.host}:${n.port}`).join(',')}/${encodeURIComponent(t.name)}`
}

/** The target a `redis-sentinel://` address names; undefined for any other URL. */
export function sentinelOf(url: string): RedisSentinelTarget | undefined {
  const m = /^redis-sentinel:\/\/(?:([^@/]*)@)?([^@/]+)\/(.+)$/.exec(url)
  if (!m) return undefined
  const nodes = m[2]!.split(',').map((hp) => ({ host: hp.slice(0, hp.lastIndexOf(':')), port: Number(hp.slice(hp.lastIndexOf(':') + 1)) }))
  return { ...credentialsOf(`redis://${m[1] ? `${m[1]}@` : ''}x`), name: decodeURIComponent(m[3]!), nodes }
}

/** The user and password a redis:// URL carries, if any. */
function credentialsOf(url: string): { username?: string; password?: string } {
  const m = /^rediss?:\/\/(?:([^:@/]*)(?::([^@/]*))?@)/.exec(url)
  if (!m || m[2] === undefined) return {}
  return { ...(m[1] ? { username: decodeURIComponent(m[1]) } : {}), password: decodeURIComponent(m[2]) }
}

export type Redis = ReturnType<typeof connectRedis>
