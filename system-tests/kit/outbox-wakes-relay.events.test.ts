import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { pathToFileURL } from 'node:url'
import { connectDb, createOutbox, migrate, type OutboxEvent, type Sql } from '@shop/kit/data'
import { createLog, createMetrics, createTracing } from '@shop/kit/observability'
import { eventually, isolate, type Isolated } from '@shop/testkit'

// The outbox object against a real PostgreSQL: what a transaction adds leaves with its commit, and
// only then. The relay's poll is set to a minute here, so an event that arrives within seconds was
// sent because the commit woke the relay, not because a poll came round. The broker side is a
// recording port (the relay's whole contract with the bus is `publish`); the saga and fault suites
// prove the real broker.
type Sent = { routingKey: string; eventId: string; at: number }

let iso: Isolated
let sql: Sql
let otherPool: Sql
let noMigrations: string
const sent: Sent[] = []
const log = createLog('outbox-test', 'error')
const instruments = { tracing: createTracing({ serviceName: 'outbox-test', sampler: 'always_on', scheduleDelayMs: 1000 }), metrics: createMetrics('outbox-test') }
const outbox = () =>
  createOutbox({
    sql,
    bus: { publish: async (messages) => void sent.push(...messages.map((m) => ({ routingKey: m.routingKey, eventId: m.eventId, at: performance.now() }))) },
    log,
    instruments,
    settings: { pollMs: 60_000 },
  })
let box: ReturnType<typeof outbox>

const event = (routingKey = 'thing.done'): OutboxEvent => ({ routingKey, payload: { eventId: crypto.randomUUID(), thingId: crypto.randomUUID() } })
const rowsLeft = async () => (await sql<{ n: number }[]>`select count(*)::int as n from outbox`)[0]!.n
const sentOnce = (e: OutboxEvent, what: string) =>
  eventually(() => sent.find((s) => s.eventId === e.payload.eventId), { timeout: 10_000, what })

beforeAll(async () => {
  iso = await isolate('outbox')
  sql = iso.db('product')
  otherPool = connectDb(iso.env('product').DATABASE_URL!, 2) // a second pool to the same database
  noMigrations = mkdtempSync(`${tmpdir()}/no-migrations-`) // the kit's own (the outbox table) only
  await migrate(sql, pathToFileURL(`${noMigrations}/`))
  await sql`create table things (id uuid primary key)`
  box = outbox()
  box.relay.start()
  // the first poll runs at start; from here on only a commit can wake the relay within a minute
  await eventually(async () => (await rowsLeft()) === 0, { what: 'an idle relay' })
})

afterAll(async () => {
  await box.relay.stop()
  await otherPool.end()
  rmSync(noMigrations, { recursive: true, force: true })
  await iso.cleanup()
})

describe('the outbox object', () => {
  it('when a transaction adds an event and commits, then the relay publishes it without waiting for its poll, and the row is gone', async () => {
    const e = event()
    const committed = await box.transaction(async (tx, events) => {
      await tx`insert into things (id) values (${e.payload.thingId as string})`
      events.add(e)
      return performance.now()
    })
    const published = await sentOnce(e, 'the event published after its commit')
    console.log(`outbox: commit to publish ${(published.at - committed).toFixed(1)} ms (relay poll 60000 ms)`)
    expect(published.routingKey).toBe('thing.done')
    // the relay deletes the row once the broker confirmed it, which can come after a consumer got it
    await eventually(async () => (await rowsLeft()) === 0, { what: 'the published row gone from the outbox' })
  })

  it('when the transaction fails after adding an event, then neither the change nor the event exists', async () => {
    const e = event()
    const failed = box.transaction(async (tx, events) => {
      await tx`insert into things (id) values (${e.payload.thingId as string})`
      events.add(e)
      throw new Error('the use case changed its mind')
    })
    await expect(failed).rejects.toThrow('changed its mind')
    expect(await rowsLeft()).toBe(0)
    expect(await sql`select 1 from things where id = ${e.payload.thingId as string}`).toHaveLength(0)
    // a later commit wakes the relay: had the failed event been written, it would leave too
    const later = event()
    await box.transaction(async (_, events) => events.add(later))
    await sentOnce(later, 'the later event')
    expect(sent.some((s) => s.eventId === e.payload.eventId)).toBe(false)
  })

  it('when one statement inserts its events through a CTE fragment, then the relay is woken by it too', async () => {
    const e = event('thing.made')
    await box.statement(
      (sql, events) => sql`with made as (insert into things (id) values (${e.payload.thingId as string})), announced as (${events.insert([e])}) select 1`,
    )
    await sentOnce(e, 'the event of a single statement')
    expect(await rowsLeft()).toBe(0)
  })

  it('when the outbox writes through another pool, then the same relay is woken', async () => {
    const e = event()
    const viaOther = box.on(otherPool)
    await viaOther.transaction(async (_, events) => events.add(e))
    await sentOnce(e, 'the event written through the other pool')
  })

  it('when an event waits in the outbox, then `waiting` finds it by a payload field, and not once it left', async () => {
    await box.relay.stop()
    const e = event()
    try {
      await box.transaction(async (_, events) => events.add(e))
      const waitingNow = await box.transaction(async (tx, events) => {
        const [row] = await tx<{ waiting: boolean }[]>`select ${events.waiting('thing.done', 'thingId', tx`${e.payload.thingId as string}::text`)} as waiting`
        return row!.waiting
      })
      expect(waitingNow).toBe(true)
    } finally {
      box.relay.start()
    }
    await sentOnce(e, 'the held event, once the relay runs again')
    const waitingAfter = await box.transaction(async (tx, events) => {
      const [row] = await tx<{ waiting: boolean }[]>`select ${events.waiting('thing.done', 'thingId', tx`${e.payload.thingId as string}::text`)} as waiting`
      return row!.waiting
    })
    expect(waitingAfter).toBe(false)
  })

  it('when the service sets its published hooks right after the relay started with rows waiting, then the first batch records them', async () => {
    // a restarted service: rows wait, the relay starts with the service, the hooks come a moment later
    await box.relay.stop()
    const e = event()
    await box.transaction(async (_, events) => events.add(e))
    const recorded: string[] = []
    const committed: string[] = []
    box.relay.start()
    box.onPublished({
      record: async (_, events) => void recorded.push(...events.map((p) => p.eventId)),
      committed: (events) => void committed.push(...events.map((p) => p.eventId)),
    })
    await sentOnce(e, 'the waiting event, in the first batch')
    await eventually(() => committed.includes(e.payload.eventId), { what: 'the committed hook of the first batch' })
    expect(recorded).toContain(e.payload.eventId)
    box.onPublished({})
  })
})
