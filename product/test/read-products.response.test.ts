import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Product, ProductPage } from '@shop/contracts'
import { runtimes, type Reply } from '@shop/testkit'
import { expectJson, expectProblem } from '@shop/testkit/expect'
import { newProduct, productWorld, type ProductWorld } from './env.ts'

let w: ProductWorld

// the same contract, served by Bun and by Deno
describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await productWorld(runtime)))
  afterAll(() => w.stop())

  describe('GET /products/:id', () => {
    it('when the product exists, then answers 200 with it', async () => {
      const created = await w.api.post('/products', newProduct())
      const res = await w.api.get(`/products/${created.body.id}`)
      expectJson(res, 200, Product)
      expect(res.body).toEqual(created.body)
    })

    it('when the product does not exist, then answers a 404 problem', async () => {
      expectProblem(await w.api.get('/products/0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24'), 404)
    })

    it('when the id is not a UUID, then answers a 400 problem naming params.id', async () => {
      expectProblem(await w.api.get('/products/42'), 400, 'params.id')
    })
  })

  describe('GET /products', () => {
    it('when paging with limit and cursor, then every product is listed once, oldest first', async () => {
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await w.api.post('/products', newProduct())).body.id)
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const res: Reply = await w.api.get(`/products?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        expectJson(res, 200, ProductPage)
        expect(res.body.items.length).toBeLessThanOrEqual(2)
        seen.push(...res.body.items.map((p: Product) => p.id))
        cursor = res.body.nextCursor
      } while (cursor)
      expect(seen.filter((id) => ids.includes(id))).toEqual(ids)
      expect(new Set(seen).size).toBe(seen.length)
    })

    it('when limit is out of range, then answers a 400 problem naming query.limit', async () => {
      expectProblem(await w.api.get('/products?limit=1000'), 400, 'query.limit')
    })
  })
})
