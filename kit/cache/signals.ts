/**
 * Wake-ups across replicas over Redis pub/sub: a writer says, after its commit, which topics
 * changed, and every replica's listeners on them are woken to read again what they follow. A hint,
 * never the data: a wake-up lost (Redis away, a reconnect) only delays a reader, which polls too.
 */
import { createClient } from 'redis'
import type { Log } from '../observability/log.ts'
import { reconnecting, sentinelOf, type RedisSentinelTarget } from './redis.ts'

export type Signals = {
  /** Wakes the listeners of these topics on every replica (one message; fire and forget). */
  notify(topics: readonly string[]): void
  /** Calls `wake` whenever a replica notifies `topic`, and once whenever the subscription comes back; returns what stops it. */
  listen(topic: string, wake: () => void): () => void
  /** Whether wake-ups arrive now; while they do not, a listener must poll. */
  listening(): boolean
  close(): Promise<void>
}

/**
 * Signals on one Redis channel (`channel`): each message is the topics it wakes, one per line,
 * so a batch of changes is one PUBLISH, and a replica subscribes once whatever it follows. Two
 * connections of their own (a subscribed connection can do nothing else), to REDIS_URL. Under
 * Sentinel (`sentinel`, or a `redis-sentinel://` url), which they do not follow, they are off: no
 * wake-up ever, listeners poll.
 */
export function createSignals({ url, sentinel, channel, log }: { url: string; sentinel?: RedisSentinelTarget; channel: string; log: Log }): Signals {
  const listeners = new Map<string, Set<() => void>>()
  const wake = (topic: string) => listeners.get(topic)?.forEach((fn) => fn())
  if (sentinel || sentinelOf(url)) return quiet(listeners)
  const publisher = createClient({ url, disableOfflineQueue: true, socket: reconnecting })
  const subscriber = createClient({ url, socket: reconnecting })
  let subscribedOnce = false
  let subscribed = false
  // Redis away is said by the cache's own connection; here it only means: poll
  for (const client of [publisher, subscriber]) client.on('error', () => {})
  for (const event of ['error', 'end', 'reconnecting'] as const) subscriber.on(event, () => (subscribed = false))
  // back (node-redis subscribes again by itself): whatever was notified meanwhile was missed, so
  // every listener reads again
  const back = () => {
    subscribed = true
    for (const topic of listeners.keys()) wake(topic)
  }
  subscriber.on('ready', () => subscribedOnce && back())
  const connected = Promise.all([
    publisher.connect().catch((err) => log.debug('signals: publisher not connected', { err: String(err) })),
    subscriber.connect().catch((err) => log.debug('signals: subscriber not connected', { err: String(err) })),
    // sent once connected (the subscriber queues commands until then), and again on every reconnect
    subscriber
      .subscribe(channel, (message) => message.split('\n').forEach(wake))
      .then(() => {
        subscribedOnce = true
        back()
      })
      .catch((err) => log.debug('signals: not subscribed', { err: String(err) })),
  ])
  return {
    notify(topics) {
      if (!topics.length || !publisher.isReady) return
      publisher.publish(channel, topics.join('\n')).catch(() => {})
    },
    listen: (topic, fn) => listenOn(listeners, topic, fn),
    listening: () => subscribed && subscriber.isReady,
    async close() {
      // still trying to reach Redis: nothing to flush, just stop trying (that ends `connected`)
      for (const client of [publisher, subscriber]) {
        if (client.isReady) await client.close().catch(() => {})
        else if (client.isOpen) client.destroy()
      }
      await connected
    },
  }
}

function listenOn(listeners: Map<string, Set<() => void>>, topic: string, fn: () => void) {
  let set = listeners.get(topic)
  if (!set) listeners.set(topic, (set = new Set()))
  set.add(fn)
  return () => {
    set.delete(fn)
    if (!set.size) listeners.delete(topic)
  }
}

/** Signals that never wake anyone: listeners poll. */
function quiet(listeners: Map<string, Set<() => void>>): Signals {
  return { notify: () => {}, listen: (topic, fn) => listenOn(listeners, topic, fn), listening: () => false, close: async () => {} }
}
