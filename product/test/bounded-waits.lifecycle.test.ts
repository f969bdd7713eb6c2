import { afterAll, describe, expect, it } from 'bun:test'
import { bootInProcess, brokerConnections, client, eventually, isolate, managementApiFor, type Isolated } from '@shop/testkit'
import { loadConfig } from '../src/config.ts'
import { startProduct } from '../src/start.ts'

// Nothing waits without a bound: what PostgreSQL sessions are given, and what happens to the
// connections of a start the broker keeps refusing.
const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})
async function world(label: string, before: (iso: Isolated) => Promise<void> = async () => {}) {
  const iso = await isolate(label)
  await before(iso)
  const running = await bootInProcess(() => startProduct(loadConfig(iso.env('product'))))
  cleanups.push(async () => {
    await running.stop()
    await iso.cleanup()
  })
  return { iso, running, api: client(running.url) }
}

/** Connections the broker lists for this run. */
const management = await managementApiFor(import.meta.path) // the broker's connection list takes its management API
const brokerConnectionCount = async (iso: Isolated) => (await brokerConnections(iso)).length

describe('bounded waits', () => {
  it('when the service talks to PostgreSQL, then every session of both pools has a statement_timeout and a lock_timeout', async () => {
    const { running } = await world('timeouts')
    for (const sql of [running.service.sql, running.service.eventsSql]) {
      const [row] = await sql<{ statementTimeout: string; lockTimeout: string }[]>`
        select current_setting('statement_timeout') as statement_timeout, current_setting('lock_timeout') as lock_timeout`
      expect(row).toEqual({ statementTimeout: '30s', lockTimeout: '10s' })
    }
  })

  it.skipIf(!management)('when the broker refuses the topology on every try, then each failed connection is closed (none pile up), and the service connects once it is fixed', async () => {
    // the events exchange already exists with another type: every declaration fails (406)
    const { iso, api } = await world('halfway', async (iso) => {
      await (await iso.channel()).assertExchange(iso.exchange, 'fanout', { durable: false, autoDelete: false })
    })
    expect((await api.get('/ready')).body.checks.rabbitmq).toBe('down')
    // several tries go by (backoff 100 ms doubling); at most its two connections exist at a time
    const seen: number[] = []
    const until = performance.now() + 3000
    while (performance.now() < until) {
      seen.push(await brokerConnectionCount(iso))
      await Bun.sleep(250) // sampling a count over time, not waiting for an event
    }
    expect(Math.max(...seen)).toBeLessThanOrEqual(2)

    await (await iso.channel()).deleteExchange(iso.exchange)
    await eventually(async () => (await api.get('/ready')).body.status === 'ready', { timeout: 15_000, what: 'connected once the exchange is fixed' })
    // one to publish, one to consume (the management API lists a new connection within seconds)
    await eventually(async () => (await brokerConnectionCount(iso)) === 2, { timeout: 10_000, what: 'two connections listed' })
  }, 30_000)
})
