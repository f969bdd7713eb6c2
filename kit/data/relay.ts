/**
 * The outbox relay: publishes the events transactions wrote, with publisher confirms, and deletes
 * each row only once the broker confirmed it.
 */
import type { Bus } from '../messaging/bus.ts'
import type { Log } from '../observability/log.ts'
import type { Sql, Tx } from './postgres.ts'
import { SpanKind, SpanStatusCode, traceHeaders, type Instruments } from '../observability/tracing.ts'
// messaging attributes are still incubating in the conventions: pinned with the package's exact version
import { ATTR_MESSAGING_DESTINATION_NAME, ATTR_MESSAGING_OPERATION_TYPE, ATTR_MESSAGING_SYSTEM } from '@opentelemetry/semantic-conventions/incubating'

export type Relay = {
  start(): void
  stop(): Promise<void>
  /** a transaction that wrote events committed: publish now rather than at the next poll */
  wake(): void
}

export type RelaySettings = { batchSize?: number; pollMs?: number; gatherMs?: number }

/** An event as the broker confirmed it. */
export type PublishedEvent = { eventId: string; routingKey: string; payload: Record<string, unknown>; headers: Record<string, string> }

/**
 * What a service does once the broker confirmed its events. `record` runs inside the relay's
 * transaction that deletes their rows, after the confirms: what it writes commits with their
 * removal, or not at all (a failure rolls the batch back, and it is published again later, which
 * consumers take as a redelivery). `committed` runs after that commit, say to tell readers.
 */
export type PublishedHooks = {
  record?(tx: Tx, events: PublishedEvent[]): Promise<unknown>
  committed?(events: PublishedEvent[]): void
}

/**
 * Publishes unsent outbox rows in batches and removes them only after the broker confirmed
 * them. Rows are claimed with FOR UPDATE SKIP LOCKED, so replicas share the work without
 * publishing a row twice. Woken by its outbox after each commit that wrote events (`wake`), and
 * polls as a fallback (rows of another replica that stopped, rows left by a failed publish).
 */
export function createRelay({
  sql,
  bus,
  log,
  instruments: { tracing, metrics },
  settings: { batchSize = 500, pollMs = 500, gatherMs = 10 } = {},
  published = () => ({}),
}: {
  sql: Sql
  bus: Pick<Bus, 'publish'>
  log: Log
  instruments: Instruments
  settings?: RelaySettings
  /** the service's hooks, read at each batch */
  published?: () => PublishedHooks
}): Relay {
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
  // stop() ends any wait at once, a backoff after a failure included
  let halt: () => void = () => {}
  const halted = new Promise<void>((resolve) => (halt = resolve))
  // whether a batch holds a transaction now (rows taken, being published): stop() waits for that
  // one, never for a batch still waiting for a connection (a database that refuses them makes
  // postgres.js back off for up to 20 s; the pool's end, right after, ends that wait)
  let inTransaction = false

  // Rows are deleted and published in one transaction that commits only after the broker
  // confirmed them: a failed publish rolls back and the rows are there for the next try.
  // the hooks are read when they are used, never at the batch's start: the first batch starts
  // with the service, before the service has set them (a restart lost its first steps that way)
  const publishBatch = async () => {
    const sent = (await sql.begin(async (tx) => {
      inTransaction = true
      try {
        return await takeAndPublish(tx)
      } finally {
        inTransaction = false
      }
    })) as PublishedEvent[]
    if (sent.length)
      try {
        published().committed?.(sent)
      } catch (err) {
        log.warn('after publishing, the service hook failed', { err: String(err) })
      }
    return sent.length
  }

  const takeAndPublish = async (tx: Tx) => {
    const rows = await tx<(PublishedEvent & { id: string })[]>`
      with taken as (
        delete from outbox where id in (select id from outbox order by id limit ${batchSize} for update skip locked)
        returning id, event_id, routing_key, payload, headers
      )
      select * from taken order by id` // published in the order they were written
    if (!rows.length) return []
    const traced = withPublishSpans(rows)
    try {
      await bus.publish(traced.map((t) => t.row))
    } catch (err) {
      for (const t of traced) t.end(err)
      throw err
    }
    for (const t of traced) t.end()
    const { record } = published()
    if (record) await record(tx, rows)
    log.debug('outbox rows published', { rows: rows.length })
    return rows
  }

  async function run() {
    let failures = 0
    while (active) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const idle = new Promise<void>((resolve) => {
        // after a failure only the backoff timer may wake us, not every new commit
        wake = failures ? () => {} : resolve
        timer = setTimeout(resolve, failures ? Math.min(5000, 100 * 2 ** failures) : pollMs)
      })
      const waited = Promise.race([idle, halted]).finally(() => clearTimeout(timer))
      try {
        const sent = await publishBatch()
        failures = 0
        if (sent === batchSize) continue
      } catch (err) {
        failures++
        if (failures === 1 || failures % 20 === 0) log.warn('outbox relay failed; will retry', { err: String(err), failures })
      }
      if (!active) break
      await waited
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
      loop = run()
    },
    async stop() {
      active = false
      halt()
      if (inTransaction) await loop
    },
    wake: () => wake(),
  }
}
