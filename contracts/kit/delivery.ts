import type { Channel, ConsumeMessage } from 'amqplib'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Events, type EventName, type EventOf } from '@shop/contracts'
import type { Log } from './log.ts'
import { retrying } from './retry.ts'

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

export type Delivery = { msg: ConsumeMessage; incoming: Incoming }

/** Every event's contract, compiled once: checked on each delivery. */
const checks = Object.fromEntries(Object.entries(Events).map(([name, schema]) => [name, TypeCompiler.Compile(schema)]))

/**
 * Acks in as few frames as possible: a delivery is marked done when handled, and one ack with
 * `multiple` settles the longest run of done deliveries from the oldest outstanding one.
 * Dead-lettering (nack) goes out at once, one message at a time.
 */
export function settler(ch: Channel) {
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
export type Settler = ReturnType<typeof settler>

/**
 * What happens to a message between its arrival and its ack: checked against its contract
 * (poison is dead-lettered at once), handled alone or in a batch, retried while the failure is
 * a passing one, dead-lettered when the handler gives up.
 */
export function createDelivery({ log, isClosing, track }: { log: Log; isClosing: () => boolean; track: (job: Promise<void>) => void }) {
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
        stop: isClosing,
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
          stop: isClosing,
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

  return { accept, handleOne, batcher }
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
