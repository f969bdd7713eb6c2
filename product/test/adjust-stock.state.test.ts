import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Product } from '@shop/contracts'
import { runtimes } from '@shop/testkit'
import { expectJson, expectProblem } from '@shop/testkit/expect'
import { newProduct, productWorld, type ProductWorld } from './env.ts'

let w: ProductWorld

const adjust = (id: string, body: Record<string, unknown>) => w.api.patch(`/products/${id}`, body)
const rowOf = async (id: string) => (await w.db`select name, price, qty, version from products where id = ${id}`)[0]
const created = async (qty: number) => (await w.api.post('/products', newProduct({ qty }))).body as Product

describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await productWorld(runtime)))
  afterAll(() => w.stop())

  describe('PATCH /products/:id {qtyDelta}', () => {
    it('when qtyDelta is positive or negative, then it is added to the stock and the version grows', async () => {
      const p = await created(10)
      const up = await adjust(p.id, { qtyDelta: 5 })
      expectJson(up, 200, Product)
      expect(up.body).toMatchObject({ qty: 15, version: 2 })
      const down = await adjust(p.id, { qtyDelta: -15 })
      expectJson(down, 200, Product)
      expect(down.body).toMatchObject({ qty: 0, version: 3 })
    })

    it('when sent with a name and a price, then all of them change in one write', async () => {
      const p = await created(10)
      const res = await adjust(p.id, { name: 'restocked', price: '3.10', qtyDelta: 2 })
      expectJson(res, 200, Product)
      expect(res.body).toMatchObject({ name: 'restocked', price: '3.10', qty: 12, version: 2 })
    })

    it('when it would take the stock below zero, then 409 naming body.qtyDelta and nothing is written', async () => {
      const p = await created(3)
      const before = await rowOf(p.id)
      expectProblem(await adjust(p.id, { qtyDelta: -4, name: 'not written' }), 409, 'body.qtyDelta')
      expect(await rowOf(p.id)).toEqual(before)
    })

    it('when it would take the stock past what it can hold, then 409 naming body.qtyDelta and nothing is written', async () => {
      const p = await created(1_000_000_000)
      expectJson(await adjust(p.id, { qtyDelta: 1_000_000_000 }), 200, Product)
      const before = await rowOf(p.id)
      expectProblem(await adjust(p.id, { qtyDelta: 1_000_000_000 }), 409, 'body.qtyDelta')
      expect(await rowOf(p.id)).toEqual(before)
    })

    it('when qty and qtyDelta are sent together, then 422 naming both and nothing is written', async () => {
      const p = await created(10)
      const res = await adjust(p.id, { qty: 1, qtyDelta: 1 })
      expectProblem(res, 422, 'body.qty')
      expectProblem(res, 422, 'body.qtyDelta')
      expect(await rowOf(p.id)).toMatchObject({ qty: 10, version: 1 })
    })

    it('when qtyDelta is 0, fractional or out of range, then 400 naming body.qtyDelta', async () => {
      const p = await created(10)
      for (const qtyDelta of [0, 1.5, 1_000_000_001, -1_000_000_001, '5']) expectProblem(await adjust(p.id, { qtyDelta }), 400, 'body.qtyDelta')
      expect(await rowOf(p.id)).toMatchObject({ qty: 10, version: 1 })
    })

    it('when the product does not exist, then 404', async () => {
      expectProblem(await adjust(crypto.randomUUID(), { qtyDelta: 1 }), 404)
    })

    it('when 60 changes race (40 x +3, 20 x -2), then the stock is their exact sum and each one bumped the version', async () => {
      const p = await created(10)
      const deltas = [...Array(40).fill(3), ...Array(20).fill(-2)].sort(() => Math.random() - 0.5)
      const answers = await Promise.all(deltas.map((qtyDelta) => adjust(p.id, { qtyDelta })))
      expect(answers.map((a) => a.status)).toEqual(deltas.map(() => 200))
      expect(new Set(answers.map((a) => a.body.version)).size).toBe(60) // each saw its own version
      expect(await rowOf(p.id)).toMatchObject({ qty: 10 + 40 * 3 - 20 * 2, version: 61 })
    })
  })
})
