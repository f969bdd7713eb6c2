/**
 * What happens to a consumed message between its arrival and its ack: its contract checked,
 * handled alone or in a batch, retried while its failure is transient, dead-lettered only when
 * it is poison.
 */
import type { ConsumeMessage } from 'amqplib'
import type { Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { throttled, type Log } from '../observability/log.ts'
import { retrying } from '../core/retry.ts'
import { SpanKind, traceHeaders, type Instruments } from '../observability/tracing.ts'
// messaging attributes are still incubating in the conventions: pinned with the package's exact version
import {
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from '@opentelemetry/semantic-conventions/incubating'
import type { Acknowledgements } from './acknowledgements.ts'
import type { Vocabulary } from './catalog.ts'

/**
 * A delivery that passed its contract, one variant per routing key of `R` (what the service
 * receives): `if (m.routingKey === 'thing.made') m.event` is what the schema of `thing.made`
 * describes.
 */
export type Incoming<R extends Vocabulary = Vocabulary> = {
  [K in keyof R & string]: { routingKey: K; event: Static<R[K]>; headers: Record<string, string>; redelivered: boolean }
}[keyof R & string]

/** A consumer of the service's queue, bound to every routing key the service receives. */
export type Consumer<R extends Vocabulary = Vocabulary> = {
  queue: string
  prefetch?: number
  handle(message: Incoming<R>): Promise<void>
  /**
   * Optional: handles messages that arrived together in one go (one transaction, one commit).
   * When it fails for a reason other than a transient one, each message goes through `handle`
   * alone, so one bad message cannot hold up the others.
   */
  handleBatch?(messages: Incoming<R>[]): Promise<void>
  batch?: { size: number; waitMs: number }
}

export type Delivery = { msg: ConsumeMessage; incoming: Incoming }

/**
 * What happens to a message between its arrival and its ack: checked against its contract
 * (poison is dead-lettered at once), handled alone or in a batch, retried while the failure is
 * transient, dead-lettered when the handler gives up.
 */
export function createDelivery({
  log,
  isClosing,
  track,
  instruments: { tracing, metrics },
  events,
}: {
  log: Log
  isClosing: () => boolean
  track: (job: Promise<void>) => void
  instruments: Instruments
  /** what the service receives: routing key -> the schema every such message must pass */
  events: Vocabulary
}) {
  // every event's contract, compiled once: checked on each delivery
  const checks = new Map(Object.entries(events).map(([name, schema]) => [name, TypeCompiler.Compile(schema)]))
  const { consumed, failed, deadLettered } = metrics.messages
  // a dependency away fails every message the same way, many times a second: one line per
  // queue every 30 s says so, the metric counts every attempt
  const warnEvery = throttled(log.warn)
  const processing = (incoming: Incoming, queue: string) => ({
    kind: SpanKind.CONSUMER,
    parentFrom: incoming.headers,
    attributes: { [ATTR_MESSAGING_SYSTEM]: 'rabbitmq', [ATTR_MESSAGING_OPERATION_TYPE]: 'process', [ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME]: queue },
  })

  /** Checks a message against its contract; a poison one is dead-lettered here and then. */
  function admit(acks: Acknowledgements, c: Consumer, msg: ConsumeMessage): Delivery | undefined {
    // the event's name travels as the message type too: a replayed dead letter reaches its
    // queue directly, under the queue's name
    const routingKey: string = msg.properties.type && checks.has(msg.properties.type) ? msg.properties.type : msg.fields.routingKey
    const headers = stringHeaders(msg.properties.headers)
    const check = checks.get(routingKey)
    let event: unknown
    try {
      event = JSON.parse(msg.content.toString('utf8'))
    } catch {
      event = undefined
    }
    if (!check || !check.Check(event)) {
      const errors = check && event !== undefined ? [...check.Errors(event)].slice(0, 5).map((e) => `${e.path} ${e.message}`) : ['not JSON or unknown routing key']
      log.warn('poison message dead-lettered', { queue: c.queue, routingKey, errors, requestId: headers['x-request-id'] })
      acks.deadLetter(msg)
      deadLettered.inc({ queue: c.queue })
      return undefined
    }
    return { msg, incoming: { routingKey, event, headers, redelivered: msg.fields.redelivered } }
  }

  /**
   * One message in its own span (child of its publisher's), whose trace its answers carry on.
   * A transient failure is retried for as long as it lasts; when the service stops or the
   * channel is gone meanwhile (`gone`), the message is left unacked for the broker to deliver
   * again, never dead-lettered for a fault that was not its own.
   */
  const handleOne = ({ acks, consumer: c, delivery: { msg, incoming }, gone = () => false }: { acks: Acknowledgements; consumer: Consumer; delivery: Delivery; gone?: () => boolean }) =>
    tracing.inSpan(`${incoming.routingKey} process`, processing(incoming, c.queue), async (_, ctx) => {
      const traced = { ...incoming, headers: { ...incoming.headers, ...traceHeaders(ctx) } }
      try {
        await retrying(() => c.handle(traced), {
          stop: () => isClosing() || gone(),
          onRetry: (err, attempt) => {
            failed.inc({ queue: c.queue })
            warnEvery(c.queue, 'handler failed; retrying', { queue: c.queue, routingKey: incoming.routingKey, attempt, err: String(err) })
          },
        })
        acks.ack(msg)
        consumed.inc({ queue: c.queue, event: incoming.routingKey })
        log.debug('message handled', { queue: c.queue, routingKey: incoming.routingKey, messageId: msg.properties.messageId })
      } catch (err) {
        failed.inc({ queue: c.queue })
        if (isClosing() || gone()) return // unacked: redelivered once the channel closes
        log.error('handler gave up; message dead-lettered', { queue: c.queue, routingKey: incoming.routingKey, err, requestId: incoming.headers['x-request-id'] })
        acks.deadLetter(msg)
        deadLettered.inc({ queue: c.queue })
      }
    })

  /**
   * Collects deliveries until `size` are waiting or `waitMs` passed, then handles them together.
   */
  function batcher(acks: Acknowledgements, c: Consumer, gone: () => boolean = () => false) {
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
    /**
     * A batch is one span linked to each message's context; each message also gets its own span
     * (child of its publisher's), whose trace the message's answers carry on.
     */
    async function handleGroup(group: Delivery[]) {
      const spans = group.map((d) => tracing.startSpan(`${d.incoming.routingKey} process`, processing(d.incoming, c.queue)))
      const traced = group.map((d, i) => ({ ...d.incoming, headers: { ...d.incoming.headers, ...(spans[i] ? traceHeaders(spans[i].ctx) : {}) } }))
      try {
        const batch = { kind: SpanKind.CONSUMER, linksFrom: group.map((d) => d.incoming.headers), attributes: { [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: group.length } }
        await tracing.inSpan(`${c.queue} process batch`, batch, () =>
          retrying(() => c.handleBatch!(traced), {
            attempts: 1, // only transient failures are retried as a batch
            stop: () => isClosing() || gone(),
            onRetry: (err, attempt) => {
              failed.inc({ queue: c.queue })
              warnEvery(c.queue, 'batch handler failed; retrying', { queue: c.queue, attempt, err: String(err) })
            },
          }),
        )
        acks.ack(...group.map((d) => d.msg))
        for (const d of group) consumed.inc({ queue: c.queue, event: d.incoming.routingKey })
        log.debug('batch handled', { queue: c.queue, size: group.length })
      } catch (err) {
        failed.inc({ queue: c.queue })
        if (isClosing() || gone()) return // unacked: redelivered once the channel closes
        log.warn('batch failed; handling its messages one by one', { queue: c.queue, size: group.length, err: String(err) })
        for (const delivery of group) await handleOne({ acks, consumer: c, delivery, gone })
      } finally {
        for (const s of spans) s?.span.end()
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

  return { admit, handleOne, batcher }
}

function stringHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers ?? {})) if (v != null) out[k] = String(v)
  return out
}
