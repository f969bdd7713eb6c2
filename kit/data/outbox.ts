/**
 * The transactional outbox: the only way a service writes an event. Events are added inside the
 * transaction whose change they report, so they exist if and only if it commits; the commit wakes
 * the relay (relay.ts) that publishes them. A service never names the outbox's columns.
 */
import type postgres from 'postgres'
import type { Bus } from '../messaging/bus.ts'
import type { Log } from '../observability/log.ts'
import type { Instruments } from '../observability/tracing.ts'
import type { Sql, Tx } from './postgres.ts'
import { createRelay, type PublishedHooks, type Relay, type RelaySettings } from './relay.ts'

export type OutboxEvent = {
  routingKey: string
  payload: { eventId: string } & Record<string, unknown>
  headers?: Record<string, string>
}

/** A piece of SQL to put into the caller's statement (postgres.js fragment). */
export type Fragment = postgres.Fragment

/** What a statement or transaction may do with the outbox. */
export type OutboxStatement = {
  /**
   * The INSERT of these events, for a CTE or the last statement of a `with`:
   * `with placed as (...), announced as (${events.insert(list)}) select * from placed`.
   */
  insert(events: OutboxEvent[]): Fragment
  /**
   * A condition: an event with this routing key whose payload field `field` equals `value` (an
   * SQL expression, as text) is still waiting to be published.
   */
  waiting(routingKey: string, field: string, value: Fragment): Fragment
}

export type OutboxTransaction = OutboxStatement & {
  /** Writes these events when the transaction's work is done, in one statement. */
  add(...events: OutboxEvent[]): void
}

export type Outbox = {
  /**
   * Runs `work` in a transaction, with what it adds to the outbox (`events`) written in the same
   * transaction; once it commits, the relay is woken.
   */
  transaction<T>(work: (tx: Tx, events: OutboxTransaction) => Promise<T>): Promise<T>
  /**
   * One statement outside an explicit transaction (a single statement is atomic by itself: no
   * BEGIN and COMMIT round trips), built with `events.insert`; the relay is woken after it.
   */
  statement<T>(build: (sql: Sql, events: OutboxStatement) => Promise<T>): Promise<T>
  /** The same outbox and relay, writing through another pool (message handlers have their own). */
  on(sql: Sql): Outbox
}

/** The columns of an event's row, each as an array for `unnest` (one statement for any number). */
const columns = (events: OutboxEvent[]) => ({
  ids: events.map((e) => e.payload.eventId),
  keys: events.map((e) => e.routingKey),
  payloads: events.map((e) => e.payload as never),
  headers: events.map((e) => (e.headers ?? {}) as never),
})

function statementOf(sql: Sql | Tx, wrote: () => void): OutboxStatement {
  return {
    insert(events) {
      if (events.length) wrote()
      const c = columns(events)
      return sql`insert into outbox (event_id, routing_key, payload, headers)
        select * from unnest(${c.ids}::uuid[], ${c.keys}::text[], ${c.payloads}::jsonb[], ${c.headers}::jsonb[])`
    },
    waiting: (routingKey, field, value) =>
      sql`exists (select 1 from outbox b where b.routing_key = ${routingKey} and b.payload ->> ${field} = ${value})`,
  }
}

/** The service's outbox with its relay, and what it does once the broker confirmed its events. */
export type ServiceOutbox = Outbox & {
  relay: Relay
  /**
   * Sets `onPublished` of an outbox made for the service (by `connectService`): set it right
   * after, before the relay can have had a batch confirmed.
   */
  onPublished(hooks: PublishedHooks): void
}

/**
 * The service's outbox, bound to its pool and its relay: `outbox.transaction(...)` in the
 * stores, `outbox.relay` started and stopped by the service. No state outside the object: two
 * services in one process (the tests) each wake only their own relay. `onPublished`: what the
 * service records in the relay's transaction once the broker confirmed a batch (`record(tx,
 * events)`, committed with the rows' removal), and does after that commit (`committed(events)`).
 */
export function createOutbox({
  sql,
  bus,
  log,
  instruments,
  settings,
  onPublished = {},
}: {
  sql: Sql
  bus: Pick<Bus, 'publish'>
  log: Log
  instruments: Instruments
  settings?: RelaySettings
  onPublished?: PublishedHooks
}): ServiceOutbox {
  let hooks = onPublished
  const relay = createRelay({ sql, bus, log, instruments, settings, published: () => hooks })
  const on = (pool: Sql): Outbox => ({
    async transaction(work) {
      const later: OutboxEvent[] = []
      let wrote = false
      const result = await pool.begin(async (tx) => {
        const events = { ...statementOf(tx, () => (wrote = true)), add: (...e: OutboxEvent[]) => void later.push(...e) }
        const value = await work(tx, events)
        if (later.length) await events.insert(later)
        return value
      })
      if (wrote) relay.wake()
      return result as never
    },
    async statement(build) {
      let wrote = false
      const result = await build(pool, statementOf(pool, () => (wrote = true)))
      if (wrote) relay.wake()
      return result
    },
    on,
  })
  return {
    ...on(sql),
    relay,
    onPublished: (next) => void (hooks = next),
  }
}
