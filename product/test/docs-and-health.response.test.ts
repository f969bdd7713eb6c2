import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Health, Readiness } from '@shop/contracts'
import { expectJson } from '@shop/testkit/expect'
import { runtimes } from '@shop/testkit'
import { productWorld, type ProductWorld } from './env.ts'

let w: ProductWorld

// the same contract, served by Bun and by Deno
describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await productWorld(runtime)))
  afterAll(() => w.stop())

  describe('docs', () => {
    it('when /docs is opened, then Swagger UI loads from this server, never a CDN', async () => {
      const page = await w.api.get('/docs')
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toStartWith('text/html')
      const assets = [...page.text.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]!)
      expect(page.text).not.toMatch(/(?:src|href)="(?:https?:)?\/\//)
      expect(assets.sort()).toEqual(['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css'])
      for (const asset of assets) {
        const res = await fetch(w.api.base + asset)
        expect(res.status).toBe(200)
        expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(10_000)
      }
    })

    it('when /docs/json is read, then every product route is documented with its error responses', async () => {
      const { status, body: spec } = await w.api.get('/docs/json')
      expect(status).toBe(200)
      expect(spec.paths['/products'].post.responses).toContainKeys(['201', '400', '415', '422'])
      expect(spec.paths['/products/{id}'].get.responses).toContainKeys(['200', '400', '404'])
      expect(Object.keys(spec.paths['/products/{id}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']))
      expect(JSON.stringify(spec)).toContain('19.99') // examples travel from the contracts
    })
  })

  describe('health', () => {
    it('when alive, then /health answers ok', async () => {
      expectJson(await w.api.get('/health'), 200, Health)
    })

    it('when PostgreSQL, Redis and RabbitMQ answer, then /ready says so for each', async () => {
      const res = await w.api.get('/ready')
      expectJson(res, 200, Readiness)
      expect(res.body).toEqual({
        status: 'ready',
        auth: 'on',
        checks: { postgres: 'up', redis: 'up', rabbitmq: 'up' },
        consumers: { [w.iso.queues.product]: 'attached' },
      })
    })
  })
})
