/**
 * Publishing with publisher confirms, on a connection of its own: the confirm channel (opened
 * again when the broker closes it), and a publish bounded by a timeout and ended at once when the
 * broker blocks publishers.
 */
import type { ChannelModel, ConfirmChannel } from 'amqplib'
import { throttled, type Log } from '../observability/log.ts'
import type { Metrics } from '../observability/metrics.ts'
import { retrying, withTimeout } from '../core/retry.ts'
import { brokerConnection } from './connection.ts'
import type { Declarations } from './topology.ts'

export type Outgoing = { routingKey: string; eventId: string; payload: unknown; headers: Record<string, string> }

export type Publisher = ReturnType<typeof createPublisher>

export function createPublisher({
  url,
  name,
  topology,
  log,
  metrics,
  timeoutMs,
}: {
  url: string
  name: string
  topology: Declarations
  log: Log
  metrics: Metrics
  /** the longest a publish waits for the socket to drain and for the broker's confirms */
  timeoutMs: number
}) {
  const warnEvery = throttled(log.warn)
  let channel: ConfirmChannel | undefined
  let restoring = false
  let closing = false
  const connection = brokerConnection({
    url,
    role: 'publish',
    name,
    exchange: topology.names.exchange,
    log,
    setUp: async (m) => {
      await topology.declareExchanges(m)
      channel = await openChannel(m)
    },
  })
  metrics.gauge('shop_amqp_blocked', 'Whether the broker blocks publishing (1: a memory or disk alarm; events wait in the outbox)', async (g) => {
    g.set(connection.blocked() ? 1 : 0)
  })

  /** The confirm channel; when the broker closes it (an error, an operator) a new one is opened. */
  async function openChannel(m: ChannelModel) {
    const ch = await m.createConfirmChannel()
    ch.on('error', (err) => log.warn('amqp publish channel error', { err: err.message }))
    ch.on('close', () => {
      if (channel !== ch) return
      channel = undefined
      restore()
    })
    return ch
  }

  function restore() {
    if (restoring || closing) return
    restoring = true
    void retrying(
      async () => {
        const m = connection.current()
        if (closing || channel || !m) return // no connection: reconnecting opens a channel anyway
        await topology.declareExchanges(m)
        channel = await openChannel(m)
        log.info('amqp publish channel restored')
      },
      { retryAll: true, stop: () => closing, onRetry: (err) => warnEvery('restore publisher', 'amqp publish channel not restored yet; retrying', { err: String(err) }) },
    )
      .catch(() => {})
      .finally(() => (restoring = false))
  }

  async function send(ch: ConfirmChannel, messages: Outgoing[]) {
    for (const m of messages) {
      const ok = ch.publish(topology.names.exchange, m.routingKey, Buffer.from(JSON.stringify(m.payload)), {
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

  return {
    connection,
    /** the connection is up and its confirm channel open */
    ready: () => Boolean(connection.current() && channel),
    /**
     * Resolves once the broker has confirmed every message; rejects at once while the broker
     * blocks publishers, and after `timeoutMs` at most.
     */
    async publish(messages: Outgoing[]) {
      if (!messages.length) return
      // the relay holds its outbox rows locked meanwhile: fail fast, and never wait unbounded
      const blocked = connection.blocked()
      if (blocked) throw new Error(`amqp publishing blocked by the broker (${blocked})`)
      const ch = channel
      if (!ch) {
        if (connection.current()) restore()
        throw new Error('amqp is not connected')
      }
      // a memory or disk alarm raised meanwhile ends the wait at once: no confirm comes until it clears
      const alarm = connection.untilBlocked()
      try {
        await withTimeout(Promise.race([send(ch, messages), alarm.blocked]), timeoutMs, `publish not confirmed within ${timeoutMs} ms`)
      } catch (err) {
        // confirms still owed on this channel would hold up the next wait: start on a new one
        if (channel === ch) void ch.close().catch(() => {})
        throw err
      } finally {
        alarm.done()
      }
    },
    async close() {
      closing = true
      await connection.close()
    },
  }
}
