/**
 * The service's consumers, on a connection of their own: each attached on a channel of its own,
 * and restored (its queue declared again) on every reconnection, when the broker cancels it and
 * when the broker closes its channel; how long each has been detached, against a bound.
 */
import type { Channel, ChannelModel } from 'amqplib'
import { throttled, type Log } from '../observability/log.ts'
import type { Instruments } from '../observability/tracing.ts'
import { retrying, withTimeout } from '../core/retry.ts'
import type { Vocabulary } from './catalog.ts'
import { brokerConnection } from './connection.ts'
import { acknowledgements } from './acknowledgements.ts'
import { createDelivery, type Consumer } from './delivery.ts'
import type { Declarations } from './topology.ts'

export type Consumers = ReturnType<typeof createConsumers>

export function createConsumers({
  url,
  name,
  topology,
  receives,
  log,
  instruments,
  restoreBoundMs,
  drainMs,
}: {
  url: string
  name: string
  topology: Declarations
  /** what the service receives: every consumer's queue is bound to these keys, each message checked */
  receives: Vocabulary
  log: Log
  instruments: Instruments
  /** a consumer detached this long while the broker answers counts as stuck */
  restoreBoundMs: number
  /** on stop, the longest in-flight handlers are waited for before their channels close */
  drainMs: number
}) {
  const warnEvery = throttled(log.warn)
  const routingKeys = Object.keys(receives)
  const consumers: Consumer[] = []
  const attached = new Map<Consumer, { ch: Channel; tag: string; flush: () => void }>()
  const detachedSince = new Map<Consumer, number>()
  const restoring = new Map<Consumer, Promise<void>>()
  const everAttached = new WeakSet<Consumer>()
  const inFlight = new Set<Promise<void>>()
  let stopped = false
  let closing = false
  const stopping = () => closing || stopped

  const connection = brokerConnection({ url, role: 'consume', name, exchange: topology.names.exchange, log, setUp: topology.declareExchanges, onUp: () => consumers.forEach((c) => void restore(c)) })
  const { admit, handleOne, batcher } = createDelivery({ log, isClosing: stopping, track, instruments, events: receives })
  const { metrics } = instruments
  const restores = metrics.counter('shop_consumer_restores_total', 'Consumers attached again after the broker cancelled them or closed their channel', ['queue'])
  metrics.gauge(
    'shop_consumer_attached',
    'Whether the consumer of a queue is attached to the broker (1) or being restored (0)',
    async (g) => {
      for (const c of consumers) g.set({ queue: c.queue }, attached.has(c) ? 1 : 0)
    },
    ['queue'],
  )

  /**
   * Declares the consumer's queue (again: it may have been deleted) and consumes from it on a
   * channel of its own. A consumer the broker cancels (its queue deleted, a failover) or whose
   * channel the broker closes (an ack past `consumer_timeout`, an error) is restored.
   */
  async function attach(m: ChannelModel, c: Consumer) {
    const ch = await m.createChannel()
    let live = true
    ch.on('error', (err) => log.warn('amqp consumer channel error', { queue: c.queue, err: err.message }))
    ch.on('close', () => {
      live = false
      if (attached.get(c)?.ch === ch) detached(c, 'channel closed')
    })
    try {
      await topology.declareQueue(ch, c.queue, routingKeys)
      await ch.prefetch(c.prefetch ?? 32)
      const acks = acknowledgements(ch)
      const gone = () => !live
      const batch = c.handleBatch ? batcher(acks, c, gone) : undefined
      const { consumerTag } = await ch.consume(c.queue, (msg) => {
        if (!msg) {
          // basic.cancel from the broker: unacked deliveries go back to the queue with the channel
          log.warn('consumer cancelled by the broker; restoring', { queue: c.queue })
          void ch.close().catch(() => {})
          return
        }
        acks.received(msg)
        const delivery = admit(acks, c, msg)
        if (!delivery) return
        if (batch) batch.add(delivery)
        else track(handleOne({ acks, consumer: c, delivery, gone }))
      })
      if (!live) throw new Error('channel closed while the consumer started')
      attached.set(c, { ch, tag: consumerTag, flush: () => batch?.flush() })
      const since = detachedSince.get(c)
      detachedSince.delete(c)
      if (everAttached.has(c)) {
        restores.inc({ queue: c.queue })
        log.info('consumer restored', { queue: c.queue, detachedMs: since === undefined ? undefined : Date.now() - since })
      } else log.info('consuming', { queue: c.queue })
      everAttached.add(c)
    } catch (err) {
      await ch.close().catch(() => {})
      throw err
    }
  }

  function detached(c: Consumer, reason: string) {
    attached.delete(c)
    if (stopping()) return
    if (!detachedSince.has(c)) detachedSince.set(c, Date.now())
    log.warn('consumer detached; restoring', { queue: c.queue, reason })
    void restore(c)
  }

  /** Until the consumer is attached on the current connection; one restore per consumer at a time. */
  function restore(c: Consumer): Promise<void> {
    const running = restoring.get(c)
    if (running) return running
    const done = retrying(
      async () => {
        const m = connection.current()
        if (stopping() || attached.has(c) || !m) return // no connection: reconnecting restores every consumer
        await topology.declareExchanges(m)
        await attach(m, c)
      },
      { retryAll: true, stop: stopping, onRetry: (err) => warnEvery(`restore ${c.queue}`, 'consumer not restored yet; retrying', { queue: c.queue, err: String(err) }) },
    )
      .catch(() => {})
      .finally(() => restoring.delete(c))
    restoring.set(c, done)
    return done
  }

  function track(job: Promise<void>) {
    const tracked = job.finally(() => inFlight.delete(tracked))
    inFlight.add(tracked)
  }

  return {
    connection,
    /** Registers a consumer; resolves once it runs, which, while the broker is away, waits for it. */
    async add(c: Consumer) {
      if (!routingKeys.length) throw new Error(`${c.queue}: the service receives no events`)
      consumers.push(c)
      detachedSince.set(c, Date.now())
      await connection.up()
      await restore(c)
    },
    queues: () => consumers.map((c) => c.queue),
    /** each queue's consumer, and the queues whose consumer stayed detached past the bound while the broker answers */
    state() {
      const now = Date.now()
      const overdue = connection.current() ? consumers.filter((c) => now - (detachedSince.get(c) ?? now) > restoreBoundMs) : []
      return {
        consumers: Object.fromEntries(consumers.map((c) => [c.queue, attached.has(c) ? ('attached' as const) : ('detached' as const)])),
        overdue: overdue.map((c) => c.queue),
      }
    },
    /**
     * Cancels first so nothing new arrives, lets in-flight handlers ack (for a bounded time: a
     * handler retrying through an outage gives up and leaves its message to be redelivered),
     * then closes the channels, which returns whatever is unacked to the queue.
     */
    async stop() {
      stopped = true
      const active = [...attached.values()]
      attached.clear()
      await Promise.all(active.map(({ ch, tag }) => withTimeout(ch.cancel(tag), 2000, 'cancel timed out').catch(() => {})))
      for (const { flush } of active) flush()
      await withTimeout(Promise.allSettled([...inFlight]), drainMs, 'drain timed out').catch(() =>
        log.warn('handlers still running at shutdown; their messages will be redelivered', { running: inFlight.size }),
      )
      await Promise.all(active.map(({ ch }) => withTimeout(ch.close(), 2000, 'close timed out').catch(() => {})))
    },
    async close() {
      closing = true
      await connection.close()
    },
  }
}
