import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Product } from '@shop/contracts'
import { runtimes } from '@shop/testkit'
import { expectJson, expectProblem } from '@shop/testkit/expect'
import { newProduct, productWorld, type ProductWorld } from './env.ts'

let w: ProductWorld

const get = (id: string, ifNoneMatch?: string) => w.api.get(`/products/${id}`, ifNoneMatch === undefined ? {} : { 'if-none-match': ifNoneMatch })
const notModified = (res: Awaited<ReturnType<typeof get>>, etag: string) => {
  expect(res.status).toBe(304)
  expect(res.text).toBe('')
  expect(res.headers.get('etag')).toBe(etag)
}

// the same contract, served by Bun and by Deno (which refuses a body on a 304)
describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await productWorld(runtime)))
  afterAll(() => w.stop())

  describe('GET /products/:id with If-None-Match', () => {
    it('when it names the current ETag, then 304 with the ETag and no body, from the database and from the cache', async () => {
      const { body: p, headers } = await w.api.post('/products', newProduct())
      const etag = headers.get('etag')!
      const miss = await get(p.id, etag)
      const hit = await get(p.id, etag)
      notModified(miss, etag)
      notModified(hit, etag)
      expect([miss.headers.get('x-cache'), hit.headers.get('x-cache')]).toEqual(['MISS', 'HIT'])
      expect(hit.headers.get('x-request-id')).toBeTruthy()
    })

    it('when it names an old ETag, then 200 with the product and its new ETag', async () => {
      const { body: p, headers } = await w.api.post('/products', newProduct())
      await w.api.patch(`/products/${p.id}`, { qtyDelta: 2 })
      const res = await get(p.id, headers.get('etag')!)
      expectJson(res, 200, Product)
      expect(res.body).toMatchObject({ qty: p.qty + 2, version: 2 })
      expect(res.headers.get('etag')).toBe('"2"')
    })

    it('when the current ETag is weak, in a list, or the header is *, then 304 (weak comparison)', async () => {
      const { body: p } = await w.api.post('/products', newProduct())
      for (const header of ['W/"1"', '"7", "1"', 'W/"9",W/"1"', '*']) notModified(await get(p.id, header), '"1"')
    })

    it('when it names no tag (not quoted), then 200: nothing matches', async () => {
      const { body: p } = await w.api.post('/products', newProduct())
      expectJson(await get(p.id, '1'), 200, Product)
    })

    it('when the product does not exist, then 404 whatever If-None-Match says', async () => {
      expectProblem(await get(crypto.randomUUID(), '*'), 404)
    })
  })
})
