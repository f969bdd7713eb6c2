/**
 * Dead letters an operator can look at and replay to their queue, or purge.
 */
import amqp, { type GetMessage } from 'amqplib'
import { topology } from './topology.ts'

/**
 * What an operator does with a dead-letter queue: see what is in it and why each message died
 * (the `x-death` header RabbitMQ adds), and, once the cause is fixed, move messages back to the
 * queue they came from with their ids and headers, so the idempotent handlers decide them once.
 */
export type DeadLetter = {
  messageId: string | undefined
  event: string | undefined
  reason: string | undefined
  count: number | undefined
  diedAt: string | undefined
  requestId: string | undefined
  headers: Record<string, unknown>
  payload: unknown
}

type Death = { reason?: string; count?: number; time?: { value?: number } | Date; queue?: string }

const describe = (m: GetMessage): DeadLetter => {
  const death = ((m.properties.headers?.['x-death'] as Death[] | undefined) ?? [])[0]
  const time = death?.time instanceof Date ? death.time : death?.time?.value ? new Date(death.time.value * 1000) : undefined
  let payload: unknown
  try {
    payload = JSON.parse(m.content.toString('utf8'))
  } catch {
    payload = m.content.toString('utf8')
  }
  return {
    messageId: m.properties.messageId,
    event: m.properties.type ?? m.fields.routingKey,
    reason: death?.reason,
    count: death?.count,
    diedAt: time?.toISOString(),
    requestId: m.properties.headers?.['x-request-id'],
    headers: m.properties.headers ?? {},
    payload,
  }
}

export async function deadLetters(amqpUrl: string, exchange: string, queue: string) {
  const dlq = topology(exchange).dlq(queue)
  const connection = await amqp.connect(amqpUrl)
  const ch = await connection.createConfirmChannel()

  /** Takes every message of the DLQ without acking them yet. */
  async function take(): Promise<GetMessage[]> {
    const taken: GetMessage[] = []
    for (let m = await ch.get(dlq, { noAck: false }); m; m = await ch.get(dlq, { noAck: false })) taken.push(m)
    return taken
  }

  // acks are not answered; a request on the same channel is, and only after the acks before it
  // were handled, so closing right after cannot lose them
  const settled = () => ch.checkQueue(dlq)

  return {
    dlq,
    /** Every dead letter, left where it is. */
    async list(): Promise<DeadLetter[]> {
      const taken = await take()
      for (const m of taken) ch.nack(m, false, true)
      await settled()
      return taken.map(describe)
    },
    /**
     * Moves dead letters (all, or those with the given message ids) back to `queue`, each
     * acked in the DLQ only after the broker confirmed it in the queue: none is lost or doubled
     * by a crash in between (a redelivery is decided once by the idempotent handler).
     */
    async replay(ids?: string[]): Promise<number> {
      const taken = await take()
      const chosen = taken.filter((m) => !ids || ids.includes(m.properties.messageId))
      for (const m of chosen) {
        const { ['x-death']: _, ['x-first-death-exchange']: __, ['x-first-death-queue']: ___, ['x-first-death-reason']: ____, ...headers } =
          m.properties.headers ?? {}
        // straight to the queue (the default exchange), so no other subscriber sees it twice;
        // `type` keeps the event name the consumer reads
        ch.sendToQueue(queue, m.content, { ...m.properties, headers: { ...headers, 'x-replayed-from': dlq } })
      }
      await ch.waitForConfirms()
      // (one by one: a nackAll after these acks would put the acked ones back too)
      for (const m of taken) if (chosen.includes(m)) ch.ack(m)
      else ch.nack(m, false, true) // the ones not chosen stay
      await settled()
      return chosen.length
    },
    /** Drops every dead letter; returns how many there were. */
    async purge(): Promise<number> {
      return (await ch.purgeQueue(dlq)).messageCount
    },
    close: () => connection.close(),
  }
}
