/**
 * How many messages wait in each consumer's dead-letter queue: checked every few seconds on one
 * long-lived channel of the consume connection and kept, so a scrape of the metrics reads a
 * number and never opens a channel.
 */
import type { Channel, ChannelModel } from 'amqplib'
import type { Metrics } from '../observability/metrics.ts'
import type { BrokerConnection } from './connection.ts'

export function deadLetterDepths({
  connection,
  dlqs,
  metrics,
  everyMs,
}: {
  connection: Pick<BrokerConnection, 'current'>
  /** the dead-letter queues to check, as they are now */
  dlqs: () => string[]
  metrics: Metrics
  everyMs: number
}) {
  const depths = new Map<string, number>()
  let channel: { of: ChannelModel; ch: Channel } | undefined
  let checking: Promise<void> | undefined
  let stopped = false

  // the last numbers stay while the broker is away, as a gauge read from the broker would
  metrics.gauge(
    'shop_dead_letter_queue_messages',
    "Messages waiting in a consumer's dead-letter queue",
    async (g) => {
      for (const [queue, n] of depths) g.set({ queue }, n)
    },
    ['queue'],
  )

  /** The checking channel, opened again after its connection was replaced or the broker closed it. */
  async function channelOn(m: ChannelModel) {
    if (channel?.of === m) return channel.ch
    const ch = await m.createChannel()
    const mine = { of: m, ch }
    ch.on('error', () => {}) // a DLQ not declared (yet) closes this channel only; the next check opens another
    ch.on('close', () => {
      if (channel === mine) channel = undefined
    })
    channel = mine
    return ch
  }

  async function check() {
    const m = connection.current()
    if (!m || stopped) return
    const ch = await channelOn(m)
    for (const dlq of dlqs()) depths.set(dlq, (await ch.checkQueue(dlq)).messageCount)
  }

  const timer = setInterval(() => void checkNow(), everyMs)
  timer.unref?.()

  /** Checks every DLQ now (one check at a time); failures leave the last numbers. */
  function checkNow() {
    checking ??= check()
      .catch(() => {})
      .finally(() => (checking = undefined))
    return checking
  }

  return {
    checkNow,
    /** No more checks; the channel goes with its connection, which the bus closes next. */
    stop() {
      stopped = true
      clearInterval(timer)
      channel = undefined
    },
  }
}
