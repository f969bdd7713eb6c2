import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Readiness } from '@shop/contracts'
import { expectJson } from '@shop/testkit/expect'
import { runtimes } from '@shop/testkit'
import { orderWorld, type OrderWorld } from './env.ts'

let w: OrderWorld

// the same contract, served by Bun and by Deno
describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await orderWorld(runtime)))
  afterAll(() => w.stop())

  describe('order docs and health', () => {
    it('when /docs/json is read, then every order route is documented with its error responses', async () => {
      const { body: spec } = await w.orders.get('/docs/json')
      expect(spec.paths['/orders'].post.responses).toContainKeys(['201', '400', '404', '409', '415', '422', '503'])
      expect(spec.paths['/orders/{id}'].get.responses).toContainKeys(['200', '400', '404'])
      expect(spec.paths['/orders/{id}'].delete.responses).toContainKeys(['200', '404', '409'])
      expect(spec.paths['/orders/product/{productId}'].get.responses).toContainKeys(['200', '400'])
    })

    it('when /docs is opened, then the page uses only local assets', async () => {
      const page = await w.orders.get('/docs')
      expect(page.status).toBe(200)
      expect(page.text).not.toMatch(/https?:\/\//)
    })

    it('when its dependencies answer, then /ready says ready', async () => {
      const res = await w.orders.get('/ready')
      expectJson(res, 200, Readiness)
      expect(res.body.status).toBe('ready')
    })
  })
})
