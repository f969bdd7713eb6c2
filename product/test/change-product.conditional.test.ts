import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Product } from '@shop/contracts'
import { runtimes } from '@shop/testkit'
import { expectJson, expectProblem } from '@shop/testkit/expect'
import { newProduct, productWorld, type ProductWorld } from './env.ts'

let w: ProductWorld

const patch = (id: string, body: unknown, ifMatch?: string) => w.api.patch(`/products/${id}`, body, ifMatch === undefined ? {} : { 'if-match': ifMatch })
const remove = (id: string, ifMatch: string) => w.api.delete(`/products/${id}`, { 'if-match': ifMatch })
const rowOf = async (id: string) => (await w.db`select name, price, qty, version from products where id = ${id}`)[0]
/** a product at version 2: its first ETag `"1"` is stale */
async function changedOnce() {
  const { body: p } = await w.api.post('/products', newProduct({ qty: 10 }))
  const { body: changed } = await patch(p.id, { name: `${p.name} (2)` })
  return changed as Product
}
const expectPreconditionFailed = (res: Awaited<ReturnType<typeof patch>>, current: string) => {
  expectProblem(res, 412, 'headers.if-match')
  expect(res.headers.get('etag')).toBe(current)
  expect(res.body.title).toContain(current)
}

// the same contract, served by Bun and by Deno
describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await productWorld(runtime)))
  afterAll(() => w.stop())

  describe('PATCH /products/:id with If-Match', () => {
    it('when it names a stale ETag, then 412 problem+json naming the header and saying the current ETag, and the row is unchanged', async () => {
      const p = await changedOnce()
      const before = await rowOf(p.id)
      expectPreconditionFailed(await patch(p.id, { qty: 99, price: '1.00' }, '"1"'), '"2"')
      expectPreconditionFailed(await patch(p.id, { qtyDelta: 5 }, '"1"'), '"2"')
      expect(await rowOf(p.id)).toEqual(before)
      expect((await w.api.get(`/products/${p.id}`)).body).toMatchObject({ qty: 10, version: 2 })
    })

    it('when it names the current ETag, then 200 with the change and a new ETag', async () => {
      const p = await changedOnce()
      const res = await patch(p.id, { qty: 99 }, '"2"')
      expectJson(res, 200, Product)
      expect(res.body).toMatchObject({ qty: 99, version: 3 })
      expect(res.headers.get('etag')).toBe('"3"')
    })

    it('when the current ETag is in a list, or the header is *, then the change is made', async () => {
      const p = await changedOnce()
      expectJson(await patch(p.id, { qtyDelta: 1 }, '"1", "2"'), 200, Product)
      const res = await patch(p.id, { qtyDelta: 1 }, '*')
      expectJson(res, 200, Product)
      expect(res.body).toMatchObject({ qty: 12, version: 4 })
    })

    it('when the current ETag is sent weak, then 412: If-Match compares strongly', async () => {
      const p = await changedOnce()
      expectPreconditionFailed(await patch(p.id, { qty: 1 }, 'W/"2"'), '"2"')
      expect(await rowOf(p.id)).toMatchObject({ qty: 10, version: 2 })
    })

    it('when it is not an ETag at all, then 412: it matches nothing', async () => {
      const p = await changedOnce()
      expectPreconditionFailed(await patch(p.id, { qty: 1 }, '2'), '"2"')
    })

    it('when the product does not exist, then 404, not 412 (RFC 9110 13.2.1)', async () => {
      expectProblem(await patch(crypto.randomUUID(), { qty: 1 }, '"1"'), 404)
      expectProblem(await patch(crypto.randomUUID(), { qty: 1 }, '*'), 404)
    })

    it('when there is no If-Match, then qty is set absolutely, as the seed API did', async () => {
      const p = await changedOnce()
      const res = await patch(p.id, { qty: 4 })
      expectJson(res, 200, Product)
      expect(res.body).toMatchObject({ qty: 4, version: 3 })
    })

    it('when the body is not valid, then 400 even with a stale If-Match: nothing is evaluated', async () => {
      const p = await changedOnce()
      expectProblem(await patch(p.id, { qty: -1 }, '"1"'), 400, 'body.qty')
    })
  })

  describe('DELETE /products/:id with If-Match', () => {
    it('when it names a stale ETag, then 412 naming the header, and the product is still there', async () => {
      const p = await changedOnce()
      expectPreconditionFailed(await remove(p.id, '"1"'), '"2"')
      expectJson(await w.api.get(`/products/${p.id}`), 200, Product)
    })

    it('when it names the current ETag, then 204 and the product is gone', async () => {
      const p = await changedOnce()
      const res = await remove(p.id, '"2"')
      expect([res.status, res.text]).toEqual([204, ''])
      expectProblem(await w.api.get(`/products/${p.id}`), 404)
    })

    it('when the product does not exist, then 404', async () => {
      expectProblem(await remove(crypto.randomUUID(), '"1"'), 404)
    })
  })
})
