import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Events, type EventName, type EventOf } from '@shop/contracts'
import type { Log } from './log.ts'
import { retrying } from './retry.ts'

export type Outgoing = { routingKey: EventName; eventId: string; payload: unknown; headers: Record<string, string> }
export type Incoming<K extends EventName = EventName> = {
  routingKey: K
  event: EventOf<K>
  headers: Record<string, string>
  redelivered: boolean
}
export type Consumer = {
  queue: string
  events: EventName[]
  prefetch?: number
  handle: (message: Incoming) => Promise<void>
  /**
   * Optional: handles messages that arrived together in one go (one transaction, one commit).
   * When it fails for a reason other than a passing one, each message goes through `handle`
   * alone, so one bad message cannot hold up the others.
   */
  handleBatch?: (messages: Incoming[]) => Promise<void>
  batch?: { size: number; waitMs: number }
}

type Delivery = { msg: ConsumeMessage; incoming: Incoming }
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

/** Every event's contract, compiled once: checked on each delivery. */
const checks = Object.fromEntries(Object.entries(Events).map(([name, schema]) => [name, TypeCompiler.Compile(schema)]))

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
export function createBus(url: string, exchange: string, log: Log, name = 'shop'): Bus {
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

  async function connect(): Promise<void> {
    await retrying(
      async () => {
        const m = await amqp.connect(url, { clientProperties: { connection_name: `${name} ${exchange} pid ${process.pid}` } })
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
    await ch.assertQueue(dlq, { durable: true, arguments: { 'x-queue-version': 2 } })
    await ch.bindQueue(dlq, names.deadLetters, c.queue)
    await ch.assertQueue(c.queue, {
      durable: true,
      // classic queues v2: the message store RabbitMQ 3.10+ recommends, far less work per message
      arguments: { 'x-dead-letter-exchange': names.deadLetters, 'x-dead-letter-routing-key': c.queue, 'x-queue-version': 2 },
    })
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

  /**
   * Acks in as few frames as possible: a delivery is marked done when handled, and one ack with
   * `multiple` settles the longest run of done deliveries from the oldest outstanding one.
   * Dead-lettering (nack) goes out at once, one message at a time.
   */
  function settler(ch: Channel) {
    const outstanding: ConsumeMessage[] = []
    const done = new Set<number>()
    const advance = () => {
      let last: ConsumeMessage | undefined
      while (outstanding.length && done.has(outstanding[0]!.fields.deliveryTag)) {
        last = outstanding.shift()!
        done.delete(last.fields.deliveryTag)
      }
      if (last) settle(() => ch.ack(last, true))
    }
    return {
      received: (msg: ConsumeMessage) => void outstanding.push(msg),
      ack(...msgs: ConsumeMessage[]) {
        for (const m of msgs) done.add(m.fields.deliveryTag)
        advance()
      },
      deadLetter(msg: ConsumeMessage) {
        settle(() => ch.nack(msg, false, false))
        const i = outstanding.indexOf(msg)
        if (i >= 0) outstanding.splice(i, 1)
        advance()
      },
    }
  }
  type Settler = ReturnType<typeof settler>

  /** Checks a message against its contract; a poison one is dead-lettered here and then. */
  function accept(ch: Settler, c: Consumer, msg: ConsumeMessage): Delivery | undefined {
    const routingKey = msg.fields.routingKey as EventName
    const headers = stringHeaders(msg.properties.headers)
    const check = checks[routingKey]
    let event: unknown
    try {
      event = JSON.parse(msg.content.toString('utf8'))
    } catch {
      event = undefined
    }
    if (!check || !check.Check(event)) {
      const errors = check && event !== undefined ? [...check.Errors(event)].slice(0, 5).map((e) => `${e.path} ${e.message}`) : ['not JSON or unknown routing key']
      log.warn('poison message dead-lettered', { queue: c.queue, routingKey, errors, requestId: headers['x-request-id'] })
      ch.deadLetter(msg)
      return undefined
    }
    return { msg, incoming: { routingKey, event: event as EventOf<EventName>, headers, redelivered: msg.fields.redelivered } }
  }

  async function handleOne(ch: Settler, c: Consumer, { msg, incoming }: Delivery) {
    try {
      await retrying(() => c.handle(incoming), {
        stop: () => closing,
        onRetry: (err) => log.warn('handler failed; retrying', { queue: c.queue, routingKey: incoming.routingKey, err: String(err) }),
      })
      ch.ack(msg)
    } catch (err) {
      log.error('handler gave up; message dead-lettered', { queue: c.queue, routingKey: incoming.routingKey, err, requestId: incoming.headers['x-request-id'] })
      ch.deadLetter(msg)
    }
  }

  /**
   * Collects deliveries until `size` are waiting or `waitMs` passed, then handles them together.
   */
  function batcher(ch: Settler, c: Consumer) {
    const { size, waitMs } = c.batch ?? { size: 50, waitMs: 5 }
    let waiting: Delivery[] = []
    let timer: ReturnType<typeof setTimeout> | undefined
    const flush = () => {
      clearTimeout(timer)
      timer = undefined
      const group = waiting
      waiting = []
      if (!group.length) return
      track(handleGroup(group))
    }
    async function handleGroup(group: Delivery[]) {
      try {
        await retrying(() => c.handleBatch!(group.map((d) => d.incoming)), {
          attempts: 1, // only passing failures are retried as a batch
          stop: () => closing,
          onRetry: (err) => log.warn('batch handler failed; retrying', { queue: c.queue, err: String(err) }),
        })
        ch.ack(...group.map((d) => d.msg))
      } catch (err) {
        log.warn('batch failed; handling its messages one by one', { queue: c.queue, size: group.length, err: String(err) })
        for (const d of group) await handleOne(ch, c, d)
      }
    }
    return {
      add(d: Delivery) {
        waiting.push(d)
        if (waiting.length >= size) flush()
        else timer ??= setTimeout(flush, waitMs)
      },
      flush,
    }
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
      await withTimeout(ch.waitForConfirms(), 10_000, 'publisher confirms timed out')
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

/** An ack on a channel that died meanwhile throws; the broker redelivers, the handler is idempotent. */
function settle(fn: () => void) {
  try {
    fn()
  } catch {}
}

function stringHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers ?? {})) if (v != null) out[k] = String(v)
  return out
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}
