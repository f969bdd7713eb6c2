/**
 * The transactional outbox: events written in the same transaction as the change they report, and
 * the relay that publishes them with publisher confirms and deletes them only then.
 */
import type { Static, TSchema } from '@sinclair/typebox'
import { v7 as uuidv7 } from 'uuid'
import type { Bus } from '../messaging/bus.ts'
import type { Log } from '../observability/log.ts'
import type { Sql, Tx } from './postgres.ts'
import { SpanKind, SpanStatusCode, traceHeaders, type Instruments } from '../observability/tracing.ts'
// messaging attributes are still incubating in the conventions: pinned with the package's exact version
import { ATTR_MESSAGING_DESTINATION_NAME, ATTR_MESSAGING_OPERATION_TYPE, ATTR_MESSAGING_SYSTEM } from '@opentelemetry/semantic-conventions/incubating'

export type OutboxEvent = {
  routingKey: string
  payload: { eventId: string } & Record<string, unknown>
  headers?: Record<string, string>
}

const committed = new EventTarget()

/**
 * Runs `work` in a transaction whose events (`emit`) are written to the outbox in the same
 * transaction, then wakes this process's relay once the commit is done.
 */
export async function transactionWithEvents<T>(sql: Sql, work: (tx: Tx, emit: (...events: OutboxEvent[]) => void) => Promise<T>): Promise<T> {
  const events: OutboxEvent[] = []
  const result = await sql.begin(async (tx) => {
    const value = await work(tx, (...e) => events.push(...e))
    await enqueue(tx, events)
    return value
  })
  if (events.length) eventsCommitted()
  return result as T
}

/** For writers that put their outbox row in the same single statement: wake the relay after it. */
export const eventsCommitted = () => committed.dispatchEvent(new Event('commit'))

/** The outbox row of an event, for `insert into outbox ${sql(row)}` or a CTE. */
export const outboxRow = (e: OutboxEvent) => ({
  event_id: e.payload.eventId,
  routing_key: e.routingKey,
  payload: e.payload,
  headers: e.headers ?? {},
})

/** Writes events inside the caller's transaction: they exist if and only if the state change does. */
async function enqueue(tx: Tx | Sql, events: OutboxEvent[]): Promise<void> {
  if (!events.length) return
  await tx`insert into outbox ${tx(events.map(outboxRow) as never)}`
}

export type Relay = { start(): void; stop(): Promise<void> }

/**
 * Publishes unsent outbox rows in batches and removes them only after the broker confirmed
 * them. Rows are claimed with FOR UPDATE SKIP LOCKED, so replicas share the work without
 * publishing a row twice. Wakes when this process commits events, and polls as a fallback
 * (rows of another replica that stopped, rows left by a failed publish).
 */
export function createRelay(
  sql: Sql,
  bus: Bus,
  log: Log,
  { tracing, metrics }: Instruments,
  { batchSize = 500, pollMs = 500, gatherMs = 10 } = {},
): Relay {
  metrics.gauge('shop_outbox_rows', 'Events written and not yet confirmed by the broker', async (g) => {
    const [row] = await sql<{ n: number; age: number }[]>`
      select count(*)::int as n, coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age from outbox`
    g.set(row!.n)
    oldest.set(row!.age)
  })
  const oldest = metrics.gauge('shop_outbox_oldest_age_seconds', 'Age of the oldest event waiting in the outbox', async () => {})

  /** A publish span per row, child of the trace the row carries; the message carries the span on. */
  const withPublishSpans = <R extends { routingKey: string; headers: Record<string, string> }>(rows: R[]) =>
    rows.map((row) => {
      const started = tracing.startSpan(`${row.routingKey} publish`, { kind: SpanKind.PRODUCER, parentFrom: row.headers })
      if (!started) return { row, end: () => {} }
      started.span.setAttributes({ [ATTR_MESSAGING_SYSTEM]: 'rabbitmq', [ATTR_MESSAGING_OPERATION_TYPE]: 'send', [ATTR_MESSAGING_DESTINATION_NAME]: row.routingKey })
      return {
        row: { ...row, headers: { ...row.headers, ...traceHeaders(started.ctx) } },
        end: (err?: unknown) => {
          if (err) started.span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) })
          started.span.end()
        },
      }
    })
  let active = false
  let loop: Promise<void> | undefined
  let wake: () => void = () => {}
  const onCommit = () => wake()

  // Rows are deleted and published in one transaction that commits only after the broker
  // confirmed them: a failed publish rolls back and the rows are there for the next try.
  const publishBatch = () =>
    sql.begin(async (tx) => {
      const rows = await tx<{ id: string; eventId: string; routingKey: string; payload: unknown; headers: Record<string, string> }[]>`
        with taken as (
          delete from outbox where id in (select id from outbox order by id limit ${batchSize} for update skip locked)
          returning id, event_id, routing_key, payload, headers
        )
        select * from taken order by id` // published in the order they were written
      if (!rows.length) return 0
      const traced = withPublishSpans(rows)
      try {
        await bus.publish(traced.map((t) => t.row))
      } catch (err) {
        for (const t of traced) t.end(err)
        throw err
      }
      for (const t of traced) t.end()
      log.debug('outbox rows published', { rows: rows.length })
      return rows.length
    })

  async function run() {
    let failures = 0
    while (active) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const idle = new Promise<void>((resolve) => {
        // after a failure only the backoff timer may wake us, not every new commit
        wake = failures ? () => {} : resolve
        timer = setTimeout(resolve, failures ? Math.min(5000, 100 * 2 ** failures) : pollMs)
      }).finally(() => clearTimeout(timer))
      try {
        const sent = await publishBatch()
        failures = 0
        if (sent === batchSize) continue
      } catch (err) {
        failures++
        if (failures === 1 || failures % 20 === 0) log.warn('outbox relay failed; will retry', { err: String(err), failures })
      }
      if (!active) break
      await idle
      if (failures) continue
      // a commit woke us: give the commits right behind it a moment to join the same batch
      // (a few ms of latency for far fewer round trips under load)
      if (gatherMs) await new Promise((r) => setTimeout(r, gatherMs))
    }
  }

  return {
    start() {
      if (active) return
      active = true
      committed.addEventListener('commit', onCommit)
      loop = run()
    },
    async stop() {
      active = false
      committed.removeEventListener('commit', onCommit)
      wake()
      await loop
    },
  }
}

/** The envelope the kit fills in on every event: its id (consumers deduplicate on it), time and shape version. */
type Envelope = 'eventId' | 'occurredAt' | 'version'

/**
 * A new event, with its id (a UUIDv7: ordered by time), time and version filled in. The trace of
 * the request (or message) that caused it travels in the row, so the relay continues that trace
 * when it publishes.
 */
export function newEvent(routingKey: string, body: Record<string, unknown>, headers: Record<string, string> = {}): OutboxEvent {
  const payload = { eventId: uuidv7(), occurredAt: new Date().toISOString(), version: 1 as const, ...body }
  return { routingKey, payload, headers: { ...traceHeaders(), ...headers } }
}

/**
 * `newEvent` typed by a service's vocabulary (routing key -> schema): the body must be what the
 * schema says, less the envelope. `const event = eventsOf(MyEvents); event('thing.made', {...})`.
 */
export const eventsOf =
  <V extends Record<string, TSchema>>(_vocabulary: V) =>
  <K extends keyof V & string>(routingKey: K, body: Omit<Static<V[K]>, Envelope>, headers: Record<string, string> = {}): OutboxEvent =>
    newEvent(routingKey, body as Record<string, unknown>, headers)
