import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createHmac } from 'node:crypto'
import { mintToken, newSigner } from '@shop/testkit'
import { expectProblem } from '@shop/testkit/expect'
import { shopWorld, type ShopWorld } from '../worlds.ts'

// An attacker's table, run against both services: every row is refused with a 4xx, never a
// 5xx, and nothing is written.
let w: ShopWorld
let productId: string
beforeAll(async () => {
  w = await shopWorld()
  productId = (await w.product(10, '5.00')).id
})
afterAll(() => w.stop())

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
const claims = (over: Record<string, unknown> = {}) => {
  const now = Math.floor(Date.now() / 1000)
  return { sub: 'mallory', scope: 'products:write orders:write orders:read', iss: 'shop-local', aud: 'shop', iat: now, exp: now + 600, ...over }
}

type Row = [name: string, token: () => Promise<string | null>, status: 401 | 403, error: string]
const rows: Row[] = [
  ['no token', async () => null, 401, 'invalid_token'],
  ['a garbage token', async () => 'garbage', 401, 'invalid_token'],
  ['a token signed by another key', async () => mintToken({ signer: await newSigner() }), 401, 'invalid_token'],
  ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`, 401, 'invalid_token'],
  [
    'HS256 signed with the public key as the secret (algorithm confusion)',
    async () => {
      const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims())}`
      const secret = w.iso.env('product').JWT_PUBLIC_KEY!
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
    },
    401,
    'invalid_token',
  ],
  ['an expired token', async () => mintToken({ expiresIn: -120 }), 401, 'invalid_token'],
  ['a token not valid yet', async () => mintToken({ notBefore: 600 }), 401, 'invalid_token'],
  ['a wrong issuer', async () => mintToken({ issuer: 'https://evil.example' }), 401, 'invalid_token'],
  ['a wrong audience', async () => mintToken({ audience: 'another-api' }), 401, 'invalid_token'],
  [
    'a payload edited after signing (scope widened)',
    async () => {
      const [header, , signature] = (await mintToken({ scope: 'orders:write' })).split('.')
      return `${header}.${b64(claims())}.${signature}`
    },
    401,
    'invalid_token',
  ],
  ['a sub of 10 KB', async () => mintToken({ sub: 'x'.repeat(10_240) }), 401, 'invalid_token'],
  ['a sub with control characters', async () => mintToken({ sub: 'mallory\u0000admin' }), 401, 'invalid_token'],
  ['a token missing the scope', async () => mintToken({ scope: 'orders:read' }), 403, 'insufficient_scope'],
]

const counts = async () => ({
  products: (await w.productDb`select count(*)::int as n, coalesce(sum(qty), 0)::int as qty from products`)[0],
  orders: (await w.orderDb`select count(*)::int as n from orders`)[0],
})

describe("an attacker's tokens", () => {
  it.each(rows.map((r) => ({ r })))('when $r.0 is sent, then every write is refused and nothing changes', async ({ r }) => {
    const [, make, status, error] = r
    const token = await make()
    const before = await counts()
    const products = w.products.as(token)
    const orders = w.orders.as(token)
    const replies = await Promise.all([
      products.post('/products', { name: 'stolen', price: '0.01', qty: 1 }),
      products.patch(`/products/${productId}`, { price: '0.01' }),
      products.delete(`/products/${productId}`),
      orders.post('/orders', { productId, qty: 1 }),
    ])
    for (const reply of replies) {
      // a 10 KB sub makes a token bigger than some servers' header limit: a 431 is a refusal too
      if (reply.status === 431) continue
      expectProblem(reply, status)
      expect(reply.headers.get('www-authenticate')).toContain(`error="${error}"`)
    }
    expect(await counts()).toEqual(before)
  })
})

describe('customers and their orders', () => {
  it("when customer B reads, lists or cancels customer A's order, then it is as if it did not exist", async () => {
    const alice = w.orders.as(await mintToken({ sub: 'alice', scope: 'orders:write' }))
    const bob = w.orders.as(await mintToken({ sub: 'bob', scope: 'orders:write' }))
    const placed = await alice.post('/orders', { productId, qty: 1 })
    expect(placed.body.customerId).toBe('alice')
    await w.settled(placed.body.id)

    expectProblem(await bob.get(`/orders/${placed.body.id}`), 404)
    expectProblem(await bob.delete(`/orders/${placed.body.id}`), 404)
    expectProblem(await bob.get(`/orders/product/${productId}`), 403)
    expect((await w.orders.get(`/orders/${placed.body.id}`)).body.status).toBe('confirmed') // untouched

    expect((await alice.get(`/orders/${placed.body.id}`)).status).toBe(200)
    expect((await alice.delete(`/orders/${placed.body.id}`)).body.status).toBe('cancelled')
  })

  it("when two customers send the same Idempotency-Key, then each gets their own order, never the other's", async () => {
    const key = { 'idempotency-key': 'shared-key' }
    const alice = await w.orders.as(await mintToken({ sub: 'alice', scope: 'orders:write' })).post('/orders', { productId, qty: 1 }, key)
    const bob = await w.orders.as(await mintToken({ sub: 'bob', scope: 'orders:write' })).post('/orders', { productId, qty: 1 }, key)
    expect([alice.status, bob.status]).toEqual([201, 201])
    expect(bob.body.id).not.toBe(alice.body.id)
    expect(bob.body.customerId).toBe('bob')
  })

  it('when an order is placed, then order.created says who placed it', async () => {
    const captured = await w.capture(['order.created'])
    const placed = await w.orders.as(await mintToken({ sub: 'carol', scope: 'orders:write' })).post('/orders', { productId, qty: 1 })
    const { event } = await captured.next('order.created', (e) => e.orderId === placed.body.id)
    expect(event.customerId).toBe('carol')
    await captured.stop()
  })
})
