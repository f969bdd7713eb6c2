import { randomUUID } from 'node:crypto'
import type { ConsumeMessage } from 'amqplib'
import { topology } from '@shop/kit/messaging'
import type { EventName, EventOf } from '@shop/contracts'
import type { Isolated } from './isolate.ts'
import { eventually } from './wait.ts'
import { brokerConnections, management } from './operator.ts'

/** A complete event of the contracts with fresh id and time; `fields` fill in the rest. */
export const eventOf = <K extends EventName>(_name: K, fields: Omit<EventOf<K>, 'eventId' | 'occurredAt' | 'version'> & { eventId?: string }) =>
  ({ eventId: randomUUID(), occurredAt: new Date().toISOString(), version: 1, ...fields }) as EventOf<K>

/** Publishes to this run's exchange as a service would (persistent, confirmed). */
export async function publish({
  iso,
  routingKey,
  payload,
  headers = {},
}: {
  iso: Isolated
  routingKey: string
  /** an event, or a string or Buffer sent as it is (for malformed messages) */
  payload: unknown
  headers?: Record<string, string>
}) {
  const ch = await iso.channel()
  const content = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload))
  const messageId = (payload as { eventId?: string } | undefined)?.eventId
  ch.publish(iso.exchange, routingKey, content, { persistent: true, contentType: 'application/json', messageId, type: routingKey, headers })
}

/** Messages waiting in a queue (say a DLQ), without consuming them. */
export async function queueDepth(iso: Isolated, queue: string): Promise<number> {
  const ch = await iso.channel()
  return (await ch.checkQueue(queue)).messageCount
}

export const deadLetterQueue = (iso: Isolated, queue: string) => topology(iso.exchange).dlq(queue)

export type Captured = { routingKey: string; event: any; headers: Record<string, unknown> }

/**
 * Listens on this run's exchange like one more consumer would, so a test can await the events a
 * service emits: `await probe.next('stock.reserved', e => e.orderId === id)`.
 */
export async function captureEvents(iso: Isolated, keys: EventName[]) {
  const ch = await iso.channel()
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true })
  for (const key of keys) await ch.bindQueue(queue, iso.exchange, key)
  const seen: Captured[] = []
  const { consumerTag } = await ch.consume(
    queue,
    (msg: ConsumeMessage | null) => {
      if (!msg) return
      seen.push({
        routingKey: msg.fields.routingKey,
        event: JSON.parse(msg.content.toString()),
        headers: msg.properties.headers ?? {},
      })
    },
    { noAck: true },
  )
  const matching = (key: EventName, where: (e: any) => boolean) => seen.filter((c) => c.routingKey === key && where(c.event))
  return {
    seen,
    matching,
    next: (key: EventName, where: (e: any) => boolean = () => true, timeout = 10_000) =>
      eventually(() => matching(key, where)[0], { timeout, what: `a ${key} event` }),
    stop: () => ch.cancel(consumerTag),
  }
}

/**
 * Has RabbitMQ close every connection of this run's services (their names carry the run's
 * exchange), through the management API, as a broker restart would. Returns how many it closed.
 */
export async function closeBrokerConnections(iso: Isolated, atLeast = 1): Promise<number> {
  const { origin, headers: auth } = management(iso)
  const ours = await eventually(async () => {
    const found = await brokerConnections(iso)
    return found.length >= atLeast && found
  }, { what: `${atLeast} broker connections of this run listed` })
  for (const c of ours)
    await fetch(`${origin}/api/connections/${encodeURIComponent(c.name)}`, { method: 'DELETE', headers: { ...auth, 'x-reason': 'test: broker restart' } })
  return ours.length
}
