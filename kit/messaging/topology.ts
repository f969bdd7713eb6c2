/**
 * The broker's topology, declared alike by every service: the names derived from the events
 * exchange, the arguments of a consumer's queue and of its dead-letter queue, and the
 * declarations, made again on every connection and every restore since an operator may have
 * deleted any of them.
 */
import type { Channel, ChannelModel } from 'amqplib'

/** Names derived from the exchange: every service declares the same topology the same way. */
export const topology = (exchange: string) => ({
  exchange,
  deadLetters: `${exchange}.dlx`,
  unrouted: `${exchange}.unrouted`,
  dlq: (queue: string) => `${queue}.dlq`,
})

export type TopologyNames = ReturnType<typeof topology>

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

export type Declarations = ReturnType<typeof declarations>

/**
 * The declarations of one service's topology. `warn` is told (throttled by its key) when the
 * unrouted queue cannot be declared, which never stops the bus.
 */
export function declarations({ exchange, queueType, warn }: { exchange: string; queueType: QueueType; warn: (key: string, msg: string, fields: Record<string, unknown>) => void }) {
  const names = topology(exchange)

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
      warn('declare unrouted', 'the unrouted queue could not be declared; going on without it', { queue: names.unrouted, err: String(err) })
    }
  }

  return {
    names,
    /**
     * The exchanges (unroutable messages go to `<exchange>.unrouted` instead of vanishing, dead
     * letters through `<exchange>.dlx`) and the unrouted queue.
     */
    async declareExchanges(m: ChannelModel) {
      const ch = await m.createChannel()
      ch.on('error', () => {}) // the failing call rejects with the reason; this channel is dropped
      await ch.assertExchange(names.unrouted, 'fanout', { durable: true })
      await ch.assertExchange(names.exchange, 'topic', { durable: true, alternateExchange: names.unrouted })
      await ch.assertExchange(names.deadLetters, 'direct', { durable: true })
      await ch.close()
      await declareUnrouted(m)
    },
    /** A consumer's queue, bound to each of `routingKeys`, and its dead-letter queue. */
    async declareQueue(ch: Channel, queue: string, routingKeys: readonly string[]) {
      const dlq = names.dlq(queue)
      const args = queueArguments(queueType, { exchange: names.deadLetters, routingKey: queue })
      await ch.assertQueue(dlq, { durable: true, arguments: args.dlq })
      await ch.bindQueue(dlq, names.deadLetters, queue)
      await ch.assertQueue(queue, { durable: true, arguments: args.queue })
      for (const key of routingKeys) await ch.bindQueue(queue, names.exchange, key)
    },
  }
}
