import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { eventually } from '@shop/testkit'
import { expectProblem } from '@shop/testkit/expect'
import { productBehindDbHop } from './env.ts'

// product reaches PostgreSQL through a TCP hop this file can cut, as a database restart would
let w: Awaited<ReturnType<typeof productBehindDbHop>>
beforeAll(async () => (w = await productBehindDbHop('pgdown')))
afterAll(() => w.stop())

describe('when PostgreSQL goes away and comes back', () => {
  it('then requests get a 503 problem with Retry-After meanwhile, and answers again afterwards', async () => {
    const { body: p } = await w.api.post('/products', { name: 'outage', price: '1.00', qty: 1 })
    await w.db.cut()
    const during = await w.api.post('/products', { name: 'during', price: '1.00', qty: 1 })
    expectProblem(during, 503)
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0)
    // without its database it cannot do its job: out of the Service until it is back
    const ready = await w.api.get('/ready')
    expect(ready.status).toBe(503)
    expect(ready.body).toMatchObject({ status: 'not_ready', checks: { postgres: 'down', redis: 'up', rabbitmq: 'up' } })
    await w.db.restore()
    await eventually(async () => (await w.api.get('/ready')).body.status === 'ready', { timeout: 15_000, what: 'ready again' })
    const after = await eventually(async () => {
      const r = await w.api.get(`/products/${p.id}`)
      return r.status === 200 && r
    }, { timeout: 15_000, what: 'product answering again' })
    expect(after.body.name).toBe('outage')
  }, 30_000)
})
