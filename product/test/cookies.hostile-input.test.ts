import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Product } from '@shop/contracts'
import { expectSchema } from '@shop/testkit/expect'
import { newProduct, productWorld, type ProductWorld } from './env.ts'

let w: ProductWorld
beforeAll(async () => (w = await productWorld()))
afterAll(() => w.stop())

// no route reads cookies, so none may be parsed: whatever a Cookie header holds changes nothing
describe('cookies nobody asked for', () => {
  it.each([
    ['malformed percent-escapes', 'a=%E0%A4%A; b=%%%'],
    ['400 pairs', Array.from({ length: 400 }, (_, i) => `k${i}=v${i}`).join('; ')],
    ['a signed-looking value', 'session=s%3Aabc.def; __proto__=x; constructor=y'],
  ])('when the Cookie header holds %s, then the answer is the one without it', async (_, cookie) => {
    const { body: p } = await w.api.post('/products', newProduct())
    const plain = await w.api.get(`/products/${p.id}`)
    const withCookie = await w.api.get(`/products/${p.id}`, { cookie })
    expect(withCookie.status).toBe(200)
    expectSchema(Product, withCookie.body)
    expect(withCookie.body).toEqual(plain.body)
    expect(withCookie.headers.get('set-cookie')).toBeNull()
    expect((await w.api.get('/health', { cookie })).status).toBe(200)
  })
})
