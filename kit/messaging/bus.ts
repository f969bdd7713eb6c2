/**
 * The AMQP bus on amqplib: topology, publishing with confirms, consumers that come back by
 * themselves. Why not amqp-connection-manager: see `createBus` (docs/decisions/0006).
 */
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib'
import type { TSchema } from '@sinclair/typebox'
import { createDelivery, settler, type Consumer } from './delivery.ts'
import { throttled, type Log } from '../observability/log.ts'
import type { Instruments } from '../observability/tracing.ts'
import { retrying, withTimeout } from '../core/retry.ts'

export type { Consumer, Incoming } from './delivery.ts'

export type Outgoing = { routingKey: string; eventId: string; payload: unknown; headers: Record<string, string> }

/** What the bus knows of its broker now: for /ready, /health and the metrics. */
export type BusState = {
  /** `blocked`: the broker holds publishers back (a memory or disk alarm); events wait in the outbox */
  connection: 'up' | 'down' | 'blocked'
  consumers: Record<string, 'attached' | 'detached'>
  /** set when a consumer stayed detached past the bound although the broker answers: restart me */
  stuck?: string
}

export type Bus = {
  /**
   * Resolves once the broker has confirmed every message (publisher confirms); rejects at once
   * while the broker blocks publishers, and after `publishTimeoutMs` at most.
   */
  publish(messages: Outgoing[]): Promise<void>
  /**
   * Registers a consumer: it is attached on every (re)connection and re-attached, its queue
   * declared again, whenever the broker cancels it or closes its channel. Resolves once it runs.
   */
  consume(consumer: Consumer): Promise<void>
  connected(): Promise<void>
  /** throws while the broker cannot be reached; `blocked` while it holds publishers back */
  check(): Promise<void | { state: 'blocked' }>
  state(): BusState
  stopConsuming(): Promise<void>
  close(): Promise<void>
}

export type BusOptions = {
  /** the service's event vocabulary: routing key -> schema; a consumer takes only these */
  events: Record<string, TSchema>
  name?: string
  queueType?: QueueType
  /** the longest a publish waits for the socket to drain and for the broker's confirms */
  publishTimeoutMs?: number
  /** a consumer detached this long while the broker answers makes the process unhealthy */
  restoreBoundMs?: number
  /** on shutdown, the longest in-flight handlers are waited for before their channels close */
  drainMs?: number
}

type Muxed = { connection?: { stream?: { cork(): void; uncork(): void }; muxer?: { _readIncoming(): void } } }

/**
 * amqplib hands every frame to the socket with a write of its own, and each is a syscall (on a
 * virtual machine a costly one); a burst of publishes or acks is many. The socket is corked while
 * amqplib's muxer drains its channels, so the burst leaves in one writev. Nothing else changes:
 * the same frames, in the same order, at the same moment. An amqplib without these internals
 * writes as it did.
 */
export function coalesceWrites(m: ChannelModel) {
  const { stream, muxer } = (m as unknown as Muxed).connection ?? {}
  if (typeof stream?.cork !== 'function' || typeof muxer?._readIncoming !== 'function') return false
  const drain = muxer._readIncoming.bind(muxer)
  muxer._readIncoming = () => {
    stream.cork()
    try {
      drain()
    } finally {
      stream.uncork()
    }
  }
  return true
}

/**
 * The broker's URLs: AMQP_URL names one, or the nodes of a cluster separated by commas (a comma
 * followed by another amqp:// or amqps://, so one inside a password stays where it is).
 */
export const amqpUrls = (url: string) => url.split(/,(?=\s*amqps?:\/\/)/).map((u) => u.trim())

const hostOf = (url: string) => url.replace(/^amqps?:\/\/(?:[^@/]*@)?/, '').replace(/\/.*$/, '')

/** Names derived from the exchange: every service declares the same topology the same way. */
export const topology = (exchange: string) => ({
  exchange,
  deadLetters: `${exchange}.dlx`,
  unrouted: `${exchange}.unrouted`,
  dlq: (queue: string) => `${queue}.dlq`,
})

export type QueueType = 'quorum' | 'classic'

/**
 * How a consumer's queue and its dead-letter queue are declared. Quorum queues (RabbitMQ's
 * advice for data that must survive a node) are replicated; their `x-delivery-limit` dead-letters
 * a message redelivered that often (one that crashes its consumer every time, which the
 * in-process attempts cannot count), and dead-lettering is at-least-once, so a message is not
 * dropped on its way to the DLQ. Classic queues use the v2 message store.
 */
export function queueArguments(type: QueueType, deadLetters: { exchange: string; routingKey: string }) {
  const kind =
    type === 'quorum'
      ? { 'x-queue-type': 'quorum' }
      : { 'x-queue-version': 2 } // classic queues v2: far less work per message than v1
  return {
    dlq: kind,
    queue: {
      ...kind,
      'x-dead-letter-exchange': deadLetters.exchange,
      'x-dead-letter-routing-key': deadLetters.routingKey,
      ...(type === 'quorum' ? { 'x-delivery-limit': 10, 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } : {}),
    },
  }
}

/**
 * Two AMQP connections per service, each reopened with backoff: one publishes, one consumes.
 * RabbitMQ blocks a connection that publishes during a memory or disk alarm, and a blocked
 * connection carries no acks either; kept apart, consumers go on settling while publishing waits
 * (RabbitMQ's own advice). Messages are persistent on durable exchanges and queues; unroutable
 * ones land in `<exchange>.unrouted` instead of vanishing, poison ones in `<queue>.dlq`.
 *
 * Recovery is written here rather than taken from amqp-connection-manager: that library reopens
 * connections and channels, but it does not tell a cancelled consumer from a running one, has no
 * bound on a detached consumer, and knows nothing of connection.blocked; the part it would save
 * is the reconnect loop below.
 */
export function createBus(url: string, exchange: string, log: Log, instruments: Instruments, options: BusOptions): Bus {
  const { events, name = 'service', queueType = 'quorum', publishTimeoutMs = 10_000, restoreBoundMs = 60_000, drainMs = 10_000 } = options
  const names = topology(exchange)
  const consumers: Consumer[] = []
  type Attached = { ch: Channel; tag: string; flush: () => void }
  const attached = new Map<Consumer, Attached>()
  const detachedSince = new Map<Consumer, number>()
  const restoring = new Map<Consumer, Promise<void>>()
  const inFlight = new Set<Promise<void>>()
  const warnEvery = throttled(log.warn)
  let publisher: ConfirmChannel | undefined
  let publisherRestoring = false
  let closing = false
  let consumersStopped = false
  const stopping = () => closing || consumersStopped

  const publishing = link('publish', async (m) => {
    await declare(m)
    publisher = await openPublisher(m)
  })
  const consuming = link('consume', declare, () => {
    for (const c of consumers) void restore(c)
  })
  const { accept, handleOne, batcher } = createDelivery({ log, isClosing: stopping, track, instruments, events })

  const { metrics } = instruments
  metrics.gauge(
    'shop_dead_letter_queue_messages',
    "Messages waiting in a consumer's dead-letter queue",
    async (g) => {
      const m = consuming.current()
      if (!m) return
      const ch = await m.createChannel()
      ch.on('error', () => {}) // a queue not declared yet closes this channel only
      try {
        for (const c of consumers) g.set({ queue: names.dlq(c.queue) }, (await ch.checkQueue(names.dlq(c.queue))).messageCount)
      } finally {
        await ch.close().catch(() => {})
      }
    },
    ['queue'],
  )
  metrics.gauge(
    'shop_consumer_attached',
    'Whether the consumer of a queue is attached to the broker (1) or being restored (0)',
    async (g) => {
      for (const c of consumers) g.set({ queue: c.queue }, attached.has(c) ? 1 : 0)
    },
    ['queue'],
  )
  const restores = metrics.counter('shop_consumer_restores_total', 'Consumers attached again after the broker cancelled them or closed their channel', ['queue'])
  const everAttached = new WeakSet<Consumer>()
  metrics.gauge('shop_amqp_blocked', 'Whether the broker blocks publishing (1: a memory or disk alarm; events wait in the outbox)', async (g) => {
    g.set(publishing.blocked() ? 1 : 0)
  })

  /**
   * One connection, opened until it works and reopened when it closes. A connection that fails
   * half-way through its set-up is closed before the next try, so none is left open behind.
   */
  function link(role: 'publish' | 'consume', setUp: (m: ChannelModel) => Promise<void>, onUp: () => void = () => {}) {
    let model: ChannelModel | undefined
    let blockedBy: string | undefined
    const onBlock = new Set<(reason: string) => void>()
    // the nodes of a cluster in turn, from the first: a try that fails and a connection that is
    // lost move on to the next, so a dead or paused node is skipped and tried again last
    const nodes = amqpUrls(url)
    let turn = 0
    const open = (): Promise<void> =>
      retrying(
        async () => {
          if (closing) return
          const node = nodes[turn++ % nodes.length]!
          const m = await amqp.connect(node, { clientProperties: { connection_name: `${name} ${role} ${exchange} pid ${process.pid}` } })
          coalesceWrites(m)
          let ready = false
          m.on('error', (err) => log.warn('amqp connection error', { role, err: err.message }))
          m.on('blocked', (reason) => {
            blockedBy = String(reason)
            log.warn('amqp connection blocked by the broker; publishing waits', { role, reason: blockedBy })
            for (const notify of onBlock) notify(blockedBy)
          })
          m.on('unblocked', () => {
            blockedBy = undefined
            log.info('amqp connection unblocked', { role })
          })
          m.on('close', () => {
            if (model === m) model = undefined
            blockedBy = undefined
            if (!ready || closing) return // a set-up that failed is retried by `open` itself
            log.warn('amqp connection closed; reconnecting', { role })
            up = open().catch(() => {})
          })
          try {
            await setUp(m)
          } catch (err) {
            await m.close().catch(() => {})
            throw err
          }
          ready = true
          model = m
          log.info('amqp connected', { exchange, role, node: hostOf(node) })
          onUp()
        },
        { retryAll: true, stop: () => closing, onRetry: (err) => warnEvery(`connect ${role}`, 'amqp unavailable; retrying', { role, err: String(err) }) },
      )
    let up = open().catch(() => {})
    return {
      current: () => model,
      blocked: () => blockedBy,
      /** rejects when the broker blocks this connection, until `done` is called */
      untilBlocked() {
        let notify: (reason: string) => void = () => {}
        const blocked = new Promise<never>((_, reject) => {
          notify = (reason) => reject(new Error(`amqp publishing blocked by the broker (${reason})`))
          onBlock.add(notify)
        })
        blocked.catch(() => {})
        return { blocked, done: () => void onBlock.delete(notify) }
      },
      up: () => up,
      close: async () => {
        const m = model
        model = undefined
        await m?.close().catch(() => {})
      },
    }
  }

  /** Exchanges, declared on every (re)connection and restore: an operator may have deleted them. */
  async function declare(m: ChannelModel) {
    const ch = await m.createChannel()
    ch.on('error', () => {}) // the failing call rejects with the reason; this channel is dropped
    await ch.assertExchange(names.unrouted, 'fanout', { durable: true })
    await ch.assertExchange(names.exchange, 'topic', { durable: true, alternateExchange: names.unrouted })
    await ch.assertExchange(names.deadLetters, 'direct', { durable: true })
    await ch.close()
    await declareUnrouted(m)
  }

  /**
   * The queue unroutable messages land in: a quorum queue like the others when they are, so it
   * survives a node. It is never a reason not to connect: a classic one lives on one node, and
   * while that node is down declaring it fails (404, found with a node killed under the cluster
   * tests); one left classic by an earlier release fails a quorum declaration (406) and stays
   * as it is until deleted. Either way the bus goes on, with a warning.
   */
  async function declareUnrouted(m: ChannelModel) {
    const ch = await m.createChannel()
    ch.on('error', () => {})
    try {
      await ch.assertQueue(names.unrouted, { durable: true, ...(queueType === 'quorum' ? { arguments: { 'x-queue-type': 'quorum' } } : {}) })
      await ch.bindQueue(names.unrouted, names.unrouted, '')
      await ch.close()
    } catch (err) {
      warnEvery('declare unrouted', 'the unrouted queue could not be declared; going on without it', { queue: names.unrouted, err: String(err) })
    }
  }

  async function declareQueue(ch: Channel, c: Consumer) {
    const dlq = names.dlq(c.queue)
    const args = queueArguments(queueType, { exchange: names.deadLetters, routingKey: c.queue })
    await ch.assertQueue(dlq, { durable: true, arguments: args.dlq })
    await ch.bindQueue(dlq, names.deadLetters, c.queue)
    await ch.assertQueue(c.queue, { durable: true, arguments: args.queue })
    for (const key of c.events) await ch.bindQueue(c.queue, names.exchange, key)
  }

  /** The confirm channel; when the broker closes it (an error, an operator) a new one is opened. */
  async function openPublisher(m: ChannelModel) {
    const ch = await m.createConfirmChannel()
    ch.on('error', (err) => log.warn('amqp publish channel error', { err: err.message }))
    ch.on('close', () => {
      if (publisher !== ch) return
      publisher = undefined
      restorePublisher()
    })
    return ch
  }

  function restorePublisher() {
    if (publisherRestoring || closing) return
    publisherRestoring = true
    void retrying(
      async () => {
        const m = publishing.current()
        if (closing || publisher || !m) return // no connection: reconnecting opens a channel anyway
        await declare(m)
        publisher = await openPublisher(m)
        log.info('amqp publish channel restored')
      },
      { retryAll: true, stop: () => closing, onRetry: (err) => warnEvery('restore publisher', 'amqp publish channel not restored yet; retrying', { err: String(err) }) },
    )
      .catch(() => {})
      .finally(() => (publisherRestoring = false))
  }

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
      await declareQueue(ch, c)
      await ch.prefetch(c.prefetch ?? 32)
      const settled = settler(ch)
      const batch = c.handleBatch ? batcher(settled, c, () => !live) : undefined
      const { consumerTag } = await ch.consume(c.queue, (msg) => {
        if (!msg) {
          // basic.cancel from the broker: unacked deliveries go back to the queue with the channel
          log.warn('consumer cancelled by the broker; restoring', { queue: c.queue })
          void ch.close().catch(() => {})
          return
        }
        settled.received(msg)
        const delivery = accept(settled, c, msg)
        if (!delivery) return
        if (batch) batch.add(delivery)
        else track(handleOne(settled, c, delivery, () => !live))
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
        const m = consuming.current()
        if (stopping() || attached.has(c) || !m) return // no connection: reconnecting restores every consumer
        await declare(m)
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

  async function send(ch: ConfirmChannel, messages: Outgoing[]) {
    for (const m of messages) {
      const ok = ch.publish(names.exchange, m.routingKey, Buffer.from(JSON.stringify(m.payload)), {
        persistent: true,
        contentType: 'application/json',
        messageId: m.eventId,
        type: m.routingKey,
        timestamp: Math.floor(Date.now() / 1000),
        headers: m.headers,
      })
      if (!ok) await new Promise((resolve) => ch.once('drain', resolve))
    }
    const sent = performance.now()
    await ch.waitForConfirms()
    metrics.messages.confirmSeconds.observe((performance.now() - sent) / 1000)
  }

  const state = (): BusState => {
    const up = publishing.current() && consuming.current()
    const connection = !up ? 'down' : publishing.blocked() ? 'blocked' : 'up'
    const now = Date.now()
    const overdue = consuming.current() ? consumers.filter((c) => now - (detachedSince.get(c) ?? now) > restoreBoundMs) : []
    return {
      connection,
      consumers: Object.fromEntries(consumers.map((c) => [c.queue, attached.has(c) ? 'attached' : 'detached'])),
      ...(overdue.length ? { stuck: `consumer of ${overdue.map((c) => c.queue).join(', ')} not restored within ${restoreBoundMs / 1000} s` } : {}),
    }
  }

  return {
    async publish(messages) {
      if (!messages.length) return
      // the relay holds its outbox rows locked meanwhile: fail fast, and never wait unbounded
      const blocked = publishing.blocked()
      if (blocked) throw new Error(`amqp publishing blocked by the broker (${blocked})`)
      const ch = publisher
      if (!ch) {
        if (publishing.current()) restorePublisher()
        throw new Error('amqp is not connected')
      }
      // a memory or disk alarm raised meanwhile ends the wait at once: no confirm comes until it clears
      const alarm = publishing.untilBlocked()
      try {
        await withTimeout(Promise.race([send(ch, messages), alarm.blocked]), publishTimeoutMs, `publish not confirmed within ${publishTimeoutMs} ms`)
      } catch (err) {
        // confirms still owed on this channel would hold up the next wait: start on a new one
        if (publisher === ch) void ch.close().catch(() => {})
        throw err
      } finally {
        alarm.done()
      }
    },
    async consume(c) {
      const unknown = c.events.filter((e) => !(e in events))
      if (unknown.length) throw new Error(`${c.queue}: ${unknown.join(', ')} not in the service's event vocabulary`)
      consumers.push(c)
      detachedSince.set(c, Date.now())
      // resolves once the consumer runs; while the broker is away that waits for it
      await consuming.up()
      await restore(c)
    },
    connected: async () => {
      await publishing.up()
      await consuming.up()
    },
    async check() {
      if (!publishing.current() || !consuming.current() || !publisher) throw new Error('amqp is not connected')
      if (publishing.blocked()) return { state: 'blocked' as const }
    },
    state,
    async stopConsuming() {
      // cancel first so nothing new arrives, let in-flight handlers ack (for a bounded time:
      // a handler retrying through an outage gives up and leaves its message to be redelivered),
      // then close the channels, which returns whatever is unacked to the queue
      consumersStopped = true
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
      await this.stopConsuming()
      closing = true
      await Promise.all([publishing.close(), consuming.close()].map((p) => withTimeout(p, 2000, 'close timed out').catch(() => {})))
    },
  }
}
