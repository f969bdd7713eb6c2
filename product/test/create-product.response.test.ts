import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Product } from '@shop/contracts'
import { expectJson } from '@shop/testkit/expect'
import { runtimes } from '@shop/testkit'
import { newProduct, productWorld, type ProductWorld } from './env.ts'

let w: ProductWorld

// the same contract, served by Bun and by Deno
describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await productWorld(runtime)))
  afterAll(() => w.stop())

  describe('POST /products', () => {
    it('when the body is valid, then answers 201 with the product and its Location', async () => {
      const res = await w.api.post('/products', { name: 'Coffee beans', price: '19.99', qty: 7 })
      expectJson(res, 201, Product)
      expect(res.body).toMatchObject({ name: 'Coffee beans', price: '19.99', qty: 7 })
      expect(res.headers.get('location')).toBe(`/products/${res.body.id}`)
    })

    it('when the seed client sends price as a JSON number, then it is kept exact', async () => {
      const res = await w.api.post('/products', newProduct({ price: 0.1 }))
      expectJson(res, 201, Product)
      expect(res.body.price).toBe('0.10')
      const [row] = await w.db`select price::text as price from products where id = ${res.body.id}`
      expect(row!.price).toBe('0.10')
    })

    it('when given an x-correlation-id, then echoes it as the request id', async () => {
      const res = await w.api.post('/products', newProduct(), { 'x-correlation-id': 'seed-client-42' })
      expect(res.status).toBe(201)
      expect(res.headers.get('x-request-id')).toBe('seed-client-42')
      expect(res.headers.get('x-correlation-id')).toBe('seed-client-42')
    })

    it('when no request id is sent, then a fresh one is generated', async () => {
      const res = await w.api.post('/products', newProduct())
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    })

    it('when the name holds accents, CJK and an emoji (a surrogate pair), then it is stored as sent', async () => {
      const name = 'Café 咖啡 ☕ 🫘'
      const res = await w.api.post('/products', newProduct({ name }))
      expectJson(res, 201, Product)
      expect((await w.api.get(`/products/${res.body.id}`)).body.name).toBe(name)
    })

    it('when money is large, then no float rounding happens', async () => {
      const res = await w.api.post('/products', newProduct({ price: '9999999999.99' }))
      expectJson(res, 201, Product)
      expect(res.body.price).toBe('9999999999.99')
    })
  })
})
