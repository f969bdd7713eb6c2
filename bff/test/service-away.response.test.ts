import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Readiness } from '@shop/contracts'
import { expectJson, expectProblem } from '@shop/testkit/expect'
import { bffEnv, client, runtimes } from '@shop/testkit'
import { bootBff } from './env.ts'
import { nobody, stubService, type Stub } from './stubs.ts'

// a service that is away, or too slow to begin its answer, is the bff's own 503 with Retry-After
describe.each(runtimes)('on %s', (runtime) => {
  let slow: Stub
  let bff: Awaited<ReturnType<typeof bootBff>>
  beforeAll(async () => {
    slow = stubService()
    slow.answers(async () => {
      await Bun.sleep(3000)
      return Response.json({})
    })
    // product: nothing listens; order: answers, but only after UPSTREAM_TIMEOUT_MS
    bff = await bootBff(bffEnv({ productUrl: nobody, orderUrl: slow.url }, { UPSTREAM_TIMEOUT_MS: '300' }), runtime)
  })
  afterAll(async () => {
    await bff.stop()
    slow.stop()
  })

  it('when product is away, then /products answers a 503 problem with Retry-After', async () => {
    const res = await client(bff.url).get('/products')
    expectProblem(res, 503)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(res.body.title).toContain('product')
  })

  it('when order does not begin its answer within UPSTREAM_TIMEOUT_MS, then /orders answers a 503 problem with Retry-After at that bound', async () => {
    const started = performance.now()
    const res = await client(bff.url).post('/orders', { productId: crypto.randomUUID(), qty: 1 })
    const took = performance.now() - started
    expectProblem(res, 503)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(took).toBeGreaterThanOrEqual(290)
    expect(took).toBeLessThan(2500)
  })

  it('when a service is away, then /ready says degraded with 200 and names it: the bff stays in its Service', async () => {
    const res = await client(bff.url).get('/ready')
    expectJson(res, 200, Readiness)
    expect(res.body.status).toBe('degraded')
    expect(res.body.checks.product).toBe('down')
    // too slow for /ready's own bound too: 2 s
    expect(res.body.checks.order).toBe('down')
  })

  it('then /health still says ok: nothing a restart would mend', async () => {
    const res = await client(bff.url).get('/health')
    expect([res.status, res.body]).toEqual([200, { status: 'ok' }])
  })
})
