/**
 * The AMQP bus a service stands on: a small facade over its parts, the publisher and the
 * consumers (each on a connection of its own), the topology they declare and the dead-letter
 * depths they keep. Why not amqp-connection-manager: see `createBus` (docs/decisions/0006).
 */
import { throttled, type Log } from '../observability/log.ts'
import type { Instruments } from '../observability/tracing.ts'
import { withTimeout } from '../core/retry.ts'
import type { EventCatalog, Received } from './catalog.ts'
import { createConsumers } from './consumers.ts'
import type { Consumer } from './delivery.ts'
import { deadLetterDepths } from './dead-letter-depths.ts'
import { createPublisher, type Outgoing } from './publisher.ts'
import { declarations, type QueueType } from './topology.ts'

export type { Outgoing } from './publisher.ts'

/** What the bus knows of its broker now: for /ready, /health and the metrics. */
export type BusState = {
  /** `blocked`: the broker holds publishers back (a memory or disk alarm); events wait in the outbox */
  connection: 'up' | 'down' | 'blocked'
  consumers: Record<string, 'attached' | 'detached'>
  /** set when a consumer stayed detached past the bound although the broker answers: restart me */
  stuck?: string
}

/** The bus of a service whose events are `C`: its consumers receive what `C` receives, typed. */
export type Bus<C extends EventCatalog = EventCatalog> = {
  /**
   * Resolves once the broker has confirmed every message (publisher confirms); rejects at once
   * while the broker blocks publishers, and after `publishTimeoutMs` at most.
   */
  publish(messages: Outgoing[]): Promise<void>
  /**
   * Registers a consumer of what the service receives: it is attached on every (re)connection
   * and re-attached, its queue declared again, whenever the broker cancels it or closes its
   * channel. Resolves once it runs.
   */
  consume(consumer: Consumer<Received<C>>): Promise<void>
  connected(): Promise<void>
  /** throws while the broker cannot be reached; `blocked` while it holds publishers back */
  check(): Promise<void | { state: 'blocked' }>
  state(): BusState
  stopConsuming(): Promise<void>
  close(): Promise<void>
}

export type BusOptions<C extends EventCatalog> = {
  /** AMQP_URL: one node, or a cluster's nodes separated by commas */
  url: string
  exchange: string
  log: Log
  instruments: Instruments
  /** what the service sends and receives; a consumer is bound to what it receives, each message checked */
  events: C
  name?: string
  queueType?: QueueType
  /** the longest a publish waits for the socket to drain and for the broker's confirms */
  publishTimeoutMs?: number
  /** a consumer detached this long while the broker answers makes the process unhealthy */
  restoreBoundMs?: number
  /** on shutdown, the longest in-flight handlers are waited for before their channels close */
  drainMs?: number
  /** how often the dead-letter queues' depths are checked for the metrics */
  deadLetterCheckMs?: number
}

/**
 * Two AMQP connections per service, each reopened with backoff: one publishes, one consumes.
 * RabbitMQ blocks a connection that publishes during a memory or disk alarm, and a blocked
 * connection carries no acks either; kept apart, consumers go on settling while publishing waits
 * (RabbitMQ's own advice). Messages are persistent on durable exchanges and queues; unroutable
 * ones land in `<exchange>.unrouted` instead of vanishing, poison ones in `<queue>.dlq`.
 *
 * Recovery is written in the kit rather than taken from amqp-connection-manager: that library
 * reopens connections and channels, but it does not tell a cancelled consumer from a running one,
 * has no bound on a detached consumer, and knows nothing of connection.blocked; the part it would
 * save is the reconnect loop of `brokerConnection` (connection.ts).
 */
export function createBus<C extends EventCatalog>(options: BusOptions<C>): Bus<C> {
  const { url, exchange, log, instruments, events, name = 'service', queueType = 'quorum' } = options
  const { publishTimeoutMs = 10_000, restoreBoundMs = 60_000, drainMs = 10_000, deadLetterCheckMs = 10_000 } = options
  const topology = declarations({ exchange, queueType, warn: throttled(log.warn) })
  const publisher = createPublisher({ url, name, topology, log, metrics: instruments.metrics, timeoutMs: publishTimeoutMs })
  const consumers = createConsumers({ url, name, topology, receives: events.receives, log, instruments, restoreBoundMs, drainMs })
  const depths = deadLetterDepths({
    connection: consumers.connection,
    dlqs: () => consumers.queues().map(topology.names.dlq),
    metrics: instruments.metrics,
    everyMs: deadLetterCheckMs,
  })

  return {
    publish: publisher.publish,
    async consume(c) {
      await consumers.add(c)
      void depths.checkNow()
    },
    connected: async () => {
      await publisher.connection.up()
      await consumers.connection.up()
    },
    async check() {
      if (!publisher.ready() || !consumers.connection.current()) throw new Error('amqp is not connected')
      if (publisher.connection.blocked()) return { state: 'blocked' as const }
    },
    state() {
      const up = publisher.connection.current() && consumers.connection.current()
      const { consumers: each, overdue } = consumers.state()
      return {
        connection: !up ? 'down' : publisher.connection.blocked() ? 'blocked' : 'up',
        consumers: each,
        ...(overdue.length ? { stuck: `consumer of ${overdue.join(', ')} not restored within ${restoreBoundMs / 1000} s` } : {}),
      }
    },
    stopConsuming: consumers.stop,
    async close() {
      await consumers.stop()
      depths.stop()
      await Promise.all([publisher.close(), consumers.close()].map((p) => withTimeout(p, 2000, 'close timed out').catch(() => {})))
    },
  }
}
