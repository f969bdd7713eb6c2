import { createClient } from 'redis'
import type { Log } from './log.ts'

/**
 * The service's Redis connection, shared by the cache and the rate counters (node-redis). It
 * never queues commands while Redis is away (`disableOfflineQueue`): a command then fails at once
 * and its caller goes without (reads to PostgreSQL, limits not applied), instead of waiting. It
 * reconnects on its own, backing off to 2 s. Warnings while it is away are said at most every 5 s
 * each, not once per command.
 */
export function connectRedis(url: string, log: Log) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
  })
  const lastWarning = new Map<string, number>()
  const warn = (msg: string, fields: Record<string, unknown>) => {
    if (Date.now() - (lastWarning.get(msg) ?? 0) < 5000) return
    lastWarning.set(msg, Date.now())
    log.warn(msg, fields)
  }
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

export type Redis = ReturnType<typeof connectRedis>
