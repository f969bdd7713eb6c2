import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import createClient from 'openapi-fetch'
import { bffEnv, bootInProcess, client, eventually, mintToken, type Running } from '@shop/testkit'
import { loadConfig as bffConfig } from '@shop/bff/config'
import { startBff } from '@shop/bff/start'
import { generatedFile, typesFrom } from './generated/generate.ts'
import type { paths as BffApi } from './generated/bff-api.ts'
import type { paths as OrderApi } from './generated/order-api.ts'
import type { paths as ProductApi } from './generated/product-api.ts'
import { shopWorld, type ShopWorld } from '../worlds.ts'

// a client as its users would build it: types generated from /docs/json by openapi-typescript,
// requests through openapi-fetch; `bun run typecheck` compiles this file against those types
let w: ShopWorld
let bff: Running<unknown>
beforeAll(async () => {
  w = await shopWorld()
  const env = bffEnv({ productUrl: w.products.base, orderUrl: w.orders.base })
  bff = await bootInProcess(() => startBff(bffConfig(env)))
})
afterAll(async () => {
  await bff.stop()
  await w.stop()
})

describe('a client generated from the OpenAPI documents', () => {
  it('when types are generated from the live /docs/json, then they equal the committed ones', async () => {
    for (const [service, api] of [['product', w.products], ['order', w.orders], ['bff', client(bff.url)]] as const) {
      const live = await typesFrom((await api.get('/docs/json')).body)
      expect(live).toBe(await Bun.file(generatedFile(service)).text()) // else: bun run generate:clients
    }
  })

  it('when the seed flow runs through it, then every step answers as its types say', async () => {
    const bearer = async (sub: string, scope: string) => ({ authorization: `Bearer ${await mintToken({ sub, scope })}` })
    const products = createClient<ProductApi>({ baseUrl: w.products.base, headers: await bearer('staff-1', 'products:write') })
    const orders = createClient<OrderApi>({ baseUrl: w.orders.base, headers: await bearer('customer-1', 'orders:write') })
    const staff = createClient<OrderApi>({ baseUrl: w.orders.base, headers: await bearer('staff-1', 'orders:read') })

    const created = await products.POST('/products', { body: { name: 'Generated', price: '4.20', qty: 5 } })
    expect(created.response.status).toBe(201)
    const id = created.data!.id
    const first = await products.GET('/products/{id}', { params: { path: { id } } })
    const second = await products.GET('/products/{id}', { params: { path: { id } } })
    expect([first.response.headers.get('x-cache'), second.response.headers.get('x-cache')]).toEqual(['MISS', 'HIT'])
    expect(second.data).toMatchObject({ id, name: 'Generated', price: '4.20', qty: 5, version: 1 })

    // stock changed the two safe ways: by a delta, and absolutely only at the version read
    const etag = second.response.headers.get('etag')!
    const restocked = await products.PATCH('/products/{id}', { params: { path: { id } }, body: { qtyDelta: 3 } })
    expect(restocked.data).toMatchObject({ qty: 8, version: 2 })
    const stale = await products.PATCH('/products/{id}', { params: { path: { id }, header: { 'if-match': etag } }, body: { qty: 1 } })
    expect(stale.response.status).toBe(412)
    expect(stale.error?.errors?.map((e) => e.field)).toEqual(['headers.if-match'])
    const current = restocked.response.headers.get('etag')!
    const set = await products.PATCH('/products/{id}', { params: { path: { id }, header: { 'if-match': current } }, body: { qty: 5 } })
    expect(set.data).toMatchObject({ qty: 5, version: 3 })
    const unchanged = await products.GET('/products/{id}', { params: { path: { id }, header: { 'if-none-match': set.response.headers.get('etag')! } } })
    expect([unchanged.response.status, unchanged.data]).toEqual([304, undefined])

    const placed = await orders.POST('/orders', {
      params: { header: { 'idempotency-key': crypto.randomUUID() } },
      body: { productId: id, qty: 2, price: '4.20' },
    })
    expect(placed.data).toMatchObject({ status: 'pending', totalPrice: '8.40', customerId: 'customer-1' })
    const orderId = placed.data!.id
    await eventually(
      async () => (await orders.GET('/orders/{id}', { params: { path: { id: orderId } } })).data?.status === 'confirmed',
      { what: 'the order confirmed' },
    )
    const listed = await staff.GET('/orders/product/{productId}', { params: { path: { productId: id }, query: { limit: '10' } } })
    expect(listed.data?.items.map((o) => o.id)).toEqual([orderId])
    const cancelled = await orders.DELETE('/orders/{id}', { params: { path: { id: orderId } } })
    expect(cancelled.data?.status).toBe('cancelled')

    const refused = await products.POST('/products', { body: { name: '', price: '1.00', qty: 1 } })
    expect(refused.response.status).toBe(400)
    expect(refused.error?.errors?.map((e) => e.field)).toEqual(['body.name'])
  })

  it("when the seed's summary is read through the bff's generated types, then it answers as they say", async () => {
    const bearer = async (sub: string, scope: string) => ({ authorization: `Bearer ${await mintToken({ sub, scope })}` })
    const products = createClient<ProductApi>({ baseUrl: bff.url, headers: await bearer('staff-1', 'products:write') })
    const front = createClient<BffApi>({ baseUrl: bff.url, headers: await bearer('staff-1', 'orders:read') })
    const created = await products.POST('/products', { body: { name: 'Summed', price: '2.50', qty: 3 } })
    const id = created.data!.id
    const summary = await front.GET('/order-summary/{productId}', { params: { path: { productId: id }, query: { limit: '5' } } })
    expect(summary.data).toEqual({ product: { id, name: 'Summed', price: '2.50', currentStock: 3 }, orders: [], nextCursor: null, totalOrders: 0 })
    const unknown = await front.GET('/order-summary/{productId}', { params: { path: { productId: crypto.randomUUID() } } })
    expect([unknown.response.status, unknown.error?.status]).toEqual([404, 404])
  })
})
