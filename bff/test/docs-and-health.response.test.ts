import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Health, Readiness } from '@shop/contracts'
import { expectJson, expectProblem } from '@shop/testkit/expect'
import { badExamples, lintOpenApi, validateOpenApi } from '@shop/testkit/docs'
import { bffEnv, client } from '@shop/testkit'
import { sample } from '@shop/testkit/promql'
import { bootBff } from './env.ts'
import { stubService } from './stubs.ts'

const product = stubService()
const order = stubService()
const env = bffEnv({ productUrl: product.url, orderUrl: order.url })
let bff: Awaited<ReturnType<typeof bootBff>>
let api: ReturnType<typeof client>
beforeAll(async () => {
  // nothing built in bff/web: the placeholder page
  bff = await bootBff(env, 'bun', { web: mkdtempSync(join(tmpdir(), 'no-web-')) })
  api = client(bff.url)
})
afterAll(async () => {
  await bff.stop()
  product.stop()
  order.stop()
})

describe("the bff's health, metrics and documents", () => {
  it('when /health and /ready are asked with both services answering, then ok and ready, each service named', async () => {
    expectJson(await api.get('/health'), 200, Health)
    const ready = await api.get('/ready')
    expectJson(ready, 200, Readiness)
    expect(ready.body).toEqual({ status: 'ready', auth: 'on', checks: { product: 'up', order: 'up' } })
  })

  it('when /metrics is scraped, then it has the requests by route and whether each service answers', async () => {
    product.answers(() => Response.json({ items: [], nextCursor: null }))
    await api.get('/products')
    const text = (await api.get('/metrics')).text
    expect(sample(text, 'http_requests_total', { route: '/products', service: 'bff' })).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'shop_dependency_up', { dependency: 'product' })).toBe(1)
    expect(sample(text, 'shop_dependency_up', { dependency: 'order' })).toBe(1)
  })

  it('when /docs/json is read, then it is OpenAPI 3.1.0 that swagger-parser accepts and Redocly finds no error in', async () => {
    const doc = (await api.get('/docs/json')).body
    expect(doc.openapi).toBe('3.1.0')
    await validateOpenApi(doc)
    const { errors, warnings } = await lintOpenApi(doc, 'bff')
    expect(errors).toEqual([])
    expect(warnings.filter((w) => !/^info-license |^operation-4xx-response at #\/paths\/~1(health|ready)\//.test(w))).toEqual([])
  })

  it('then it has its own operations only, the summary named from the contracts, with examples that pass their schemas', async () => {
    const doc = (await api.get('/docs/json')).body
    expect(Object.keys(doc.paths).sort()).toEqual(['/health', '/order-summary/{productId}', '/ready'])
    const op = doc.paths['/order-summary/{productId}'].get
    expect(op.operationId).toBe('getOrderSummary')
    expect(op.security).toEqual([{ bearer: ['orders:read'] }])
    expect(op.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/OrderSummary' })
    expect(Object.keys(op.responses['200'].headers)).toContain('X-Partial')
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['OrderSummary', 'SummaryProduct', 'Order', 'Problem']))
    expect(badExamples(bff.service!.app.routes as never)).toEqual([])
  })

  it('when /docs is opened, then Swagger UI from local assets; the bff has no events, so no AsyncAPI document', async () => {
    const page = await api.get('/docs')
    expect(page.status).toBe(200)
    expect(page.text).not.toMatch(/https?:\/\//)
    expect((await api.get('/docs/asyncapi.json')).status).toBe(404)
  })

  it('when / is opened before the storefront is built, then a small page that leads to the API', async () => {
    const page = await api.get('/')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toStartWith('text/html')
    expect(page.text).toContain('href="/docs"')
    expectProblem(await api.get('/assets/app.js'), 404)
  })
})

describe('a built storefront', () => {
  it('when bff/web/dist has index.html, then / is that page and its files are served at their paths, nothing outside it', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'web-dist-'))
    mkdirSync(join(dist, 'assets'))
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>storefront</title><script src="/assets/app.js"></script>')
    writeFileSync(join(dist, 'assets', 'app.js'), 'console.log("shop")')
    const built = await bootBff(env, 'bun', { web: dist })
    try {
      const web = client(built.url)
      const page = await web.get('/')
      expect([page.status, page.headers.get('content-type'), page.text]).toEqual([200, 'text/html; charset=utf-8', '<!doctype html><title>storefront</title><script src="/assets/app.js"></script>'])
      const script = await web.get('/assets/app.js')
      expect([script.status, script.headers.get('content-type'), script.text]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log("shop")'])
      expectProblem(await web.get('/assets/missing.js'), 404)
      expectProblem(await web.get('/%2e%2e/%2e%2e/etc/passwd'), 404)
      // the API is still the API
      expect((await web.get('/ready')).status).toBe(200)
      product.answers(() => Response.json({ items: [], nextCursor: null }))
      expect((await web.get('/products')).body).toEqual({ items: [], nextCursor: null })
    } finally {
      await built.stop()
    }
  })
})
