import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib'
import type { EventName } from '@shop/contracts'
import { createDelivery, settler, type Consumer } from './delivery.ts'
import type { Log } from './log.ts'
import type { Instruments } from './telemetry.ts'
import { retrying, withTimeout } from './retry.ts'

export type { Consumer, Incoming } from './delivery.ts'

export type Outgoing = { routingKey: EventName; eventId: string; payload: unknown; headers: Record<string, string> }
export type Bus = {
  /** Resolves only once the broker has confirmed every message (publisher confirms). */
  publish(messages: Outgoing[]): Promise<void>
  /** Registers a consumer; it is (re)started on every (re)connection. Resolves once it runs. */
  consume(consumer: Consumer): Promise<void>
  connected(): Promise<void>
  check(): Promise<void>
  stopConsuming(): Promise<void>
  close(): Promise<void>
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

/** Names derived from the exchange: every service declares the same topology the same way. */
export const topology = (exchange: string) => ({
  exchange,
  deadLetters: `${exchange}.dlx`,
  unrouted: `${exchange}.unrouted`,
  dlq: (queue: string) => `${queue}.dlq`,
})

/**
 * One AMQP connection per service, reconnected with backoff. Messages are persistent on
 * durable exchanges and queues; unroutable ones land in `<exchange>.unrouted` instead of
 * vanishing, poison ones in `<queue>.dlq`. Handlers that fail for a passing reason (database
 * down) are retried while the message stays unacked; redelivery is safe because handlers are
 * idempotent.
 */
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

export function createBus(url: string, exchange: string, log: Log, instruments: Instruments, name = 'shop', queueType: QueueType = 'quorum'): Bus {
  const names = topology(exchange)
  const consumers: Consumer[] = []
  const startedOn = new WeakMap<Consumer, ChannelModel>()
  const inFlight = new Set<Promise<void>>()
  let model: ChannelModel | undefined
  let publisher: ConfirmChannel | undefined
  let consuming: { ch: Channel; tag: string; flush: () => void }[] = []
  let closing = false
  let consumersStopped = false
  let up: Promise<void> = connect()
  const { accept, handleOne, batcher } = createDelivery({ log, isClosing: () => closing, track, instruments })
  instruments.metrics.gauge(
    'shop_dead_letter_queue_messages',
    "Messages waiting in a consumer's dead-letter queue",
    async (g) => {
      if (!model) return
      const ch = await model.createChannel()
      ch.on('error', () => {}) // a queue not declared yet closes this channel only
      try {
        for (const c of consumers) g.set({ queue: names.dlq(c.queue) }, (await ch.checkQueue(names.dlq(c.queue))).messageCount)
      } finally {
        await ch.close().catch(() => {})
      }
    },
    ['queue'],
  )

  async function connect(): Promise<void> {
    await retrying(
      async () => {
        const m = await amqp.connect(url, { clientProperties: { connection_name: `${name} ${exchange} pid ${process.pid}` } })
        coalesceWrites(m)
        m.on('error', (err) => log.warn('amqp connection error', { err: err.message }))
        m.on('close', () => {
          model = publisher = undefined
          consuming = []
          if (!closing) {
            log.warn('amqp connection closed; reconnecting')
            up = connect()
          }
        })
        await declare(m)
        publisher = await m.createConfirmChannel()
        publisher.on('error', (err) => log.warn('amqp publish channel error', { err: err.message }))
        model = m
        if (!consumersStopped) for (const c of consumers) await startConsumer(m, c)
        log.info('amqp connected', { exchange })
      },
      { retryAll: true, onRetry: (err) => log.warn('amqp unavailable; retrying', { err: String(err) }), stop: () => closing },
    )
  }

  async function declare(m: ChannelModel) {
    const ch = await m.createChannel()
    await ch.assertExchange(names.unrouted, 'fanout', { durable: true })
    await ch.assertQueue(names.unrouted, { durable: true })
    await ch.bindQueue(names.unrouted, names.unrouted, '')
    await ch.assertExchange(names.exchange, 'topic', { durable: true, alternateExchange: names.unrouted })
    await ch.assertExchange(names.deadLetters, 'direct', { durable: true })
    await ch.close()
  }

  async function declareQueue(ch: Channel, c: Consumer) {
    const dlq = names.dlq(c.queue)
    const args = queueArguments(queueType, { exchange: names.deadLetters, routingKey: c.queue })
    await ch.assertQueue(dlq, { durable: true, arguments: args.dlq })
    await ch.bindQueue(dlq, names.deadLetters, c.queue)
    await ch.assertQueue(c.queue, { durable: true, arguments: args.queue })
    for (const key of c.events) await ch.bindQueue(c.queue, names.exchange, key)
  }

  /** Declares the consumer's queue and starts it, once per connection. */
  async function startConsumer(m: ChannelModel, c: Consumer) {
    if (startedOn.get(c) === m) return
    startedOn.set(c, m)
    const ch = await m.createChannel()
    ch.on('error', (err) => log.warn('amqp consumer channel error', { queue: c.queue, err: err.message }))
    await declareQueue(ch, c)
    await ch.prefetch(c.prefetch ?? 32)
    const settled = settler(ch)
    const batch = c.handleBatch ? batcher(settled, c) : undefined
    const { consumerTag } = await ch.consume(c.queue, (msg) => {
      if (!msg) return
      settled.received(msg)
      const delivery = accept(settled, c, msg)
      if (!delivery) return
      if (batch) batch.add(delivery)
      else track(handleOne(settled, c, delivery))
    })
    consuming.push({ ch, tag: consumerTag, flush: () => batch?.flush() })
  }

  function track(job: Promise<void>) {
    const tracked = job.finally(() => inFlight.delete(tracked))
    inFlight.add(tracked)
  }

  return {
    async publish(messages) {
      if (!messages.length) return
      // never wait for the broker here: the relay holds outbox rows locked meanwhile
      const ch = publisher
      if (!ch) throw new Error('amqp is not connected')
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
      await withTimeout(ch.waitForConfirms(), 10_000, 'publisher confirms timed out')
      instruments.metrics.messages.confirmSeconds.observe((performance.now() - sent) / 1000)
    },
    async consume(c) {
      consumers.push(c)
      // resolves once the consumer runs; while the broker is away that waits for it
      await up
      if (model && !consumersStopped) await startConsumer(model, c)
    },
    connected: () => up,
    async check() {
      if (!model || !publisher) throw new Error('amqp is not connected')
    },
    async stopConsuming() {
      // cancel first so nothing new arrives, let in-flight handlers ack, then close
      consumersStopped = true
      const active = consuming
      consuming = []
      await Promise.all(active.map(({ ch, tag }) => ch.cancel(tag).catch(() => {})))
      for (const { flush } of active) flush()
      await Promise.allSettled([...inFlight])
      await Promise.all(active.map(({ ch }) => ch.close().catch(() => {})))
    },
    async close() {
      closing = true
      await this.stopConsuming()
      await model?.close().catch(() => {})
    },
  }
}
