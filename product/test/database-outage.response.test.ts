import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { bootInProcess, client, eventually, isolate, tcpProxy, type Isolated, type Proxy } from '@shop/harness'
import { expectProblem } from '@shop/harness/expect'
import { loadConfig } from '../src/config.ts'
import { startProduct } from '../src/start.ts'

// product reaches PostgreSQL through a TCP hop this file can cut, as a database restart would
let iso: Isolated
let db: Proxy
let api: ReturnType<typeof client>
let stop: () => Promise<void>
beforeAll(async () => {
  iso = await isolate('pgdown')
  const env = iso.env('product')
  db = await tcpProxy(env.DATABASE_URL!)
  const running = await bootInProcess(() => startProduct(loadConfig({ ...env, DATABASE_URL: db.through(env.DATABASE_URL!) })))
  api = client(running.url)
  stop = running.stop
})
afterAll(async () => {
  await db.restore().catch(() => {})
  await stop()
  await db.close()
  await iso.cleanup()
})

describe('when PostgreSQL goes away and comes back', () => {
  it('then requests get a 503 problem with Retry-After meanwhile, and answers again afterwards', async () => {
    const { body: p } = await api.post('/products', { name: 'outage', price: '1.00', qty: 1 })
    await db.cut()
    const during = await api.post('/products', { name: 'during', price: '1.00', qty: 1 })
    expectProblem(during, 503)
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0)
    await db.restore()
    const after = await eventually(async () => {
      const r = await api.get(`/products/${p.id}`)
      return r.status === 200 && r
    }, { timeout: 15_000, what: 'product answering again' })
    expect(after.body.name).toBe('outage')
  }, 30_000)
})
