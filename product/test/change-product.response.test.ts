import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Product } from '@shop/contracts'
import { expectJson, expectProblem } from '@shop/testkit/expect'
import { runtimes } from '@shop/testkit'
import { newProduct, productWorld, type ProductWorld } from './env.ts'

let w: ProductWorld

const missing = '0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24'

// the same contract, served by Bun and by Deno
describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await productWorld(runtime)))
  afterAll(() => w.stop())

  describe('PATCH /products/:id', () => {
    it('when changing price and stock, then answers 200 with the new values', async () => {
      const { body: p } = await w.api.post('/products', newProduct({ qty: 3 }))
      const res = await w.api.patch(`/products/${p.id}`, { price: '7.05', qty: 9 })
      expectJson(res, 200, Product)
      expect(res.body).toMatchObject({ id: p.id, name: p.name, price: '7.05', qty: 9 })
    })

    it('when the product does not exist, then answers a 404 problem', async () => {
      expectProblem(await w.api.patch(`/products/${missing}`, { qty: 1 }), 404)
    })

    it('when the body is empty, then answers a 400 problem and changes nothing', async () => {
      const { body: p } = await w.api.post('/products', newProduct())
      expectProblem(await w.api.patch(`/products/${p.id}`, {}), 400)
      expect((await w.api.get(`/products/${p.id}`)).body).toMatchObject({ qty: p.qty, price: p.price })
    })
  })

  describe('DELETE /products/:id', () => {
    it('when the product exists, then answers 204 and it is gone', async () => {
      const { body: p } = await w.api.post('/products', newProduct())
      const res = await w.api.delete(`/products/${p.id}`)
      expect(res.status).toBe(204)
      expect(res.text).toBe('')
      expectProblem(await w.api.get(`/products/${p.id}`), 404)
    })

    it('when the product does not exist, then answers a 404 problem', async () => {
      expectProblem(await w.api.delete(`/products/${missing}`), 404)
    })
  })
})
