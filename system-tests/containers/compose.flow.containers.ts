/**
 * The system as `docker compose up --build` runs it: the three images built from this checkout,
 * the stack brought up and health-gated, the seed's flow against the published ports and through
 * the bff, then two replicas of each service under a burst of orders, then `down -v`. Run by
 * `bun run test:containers` (needs a Docker engine), not by `bun run test`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Order, OrderPage, OrderSummary, Product } from '@shop/contracts'
import { client, eventually, type Client } from '@shop/testkit'
import { expectJson, expectSchema } from '@shop/testkit/expect'
import { composeStack, type Stack } from './compose.ts'

let stack: Stack
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`

beforeAll(async () => {
  stack = await composeStack()
  console.error(`[containers] ${stack.version}`)
  const t0 = performance.now()
  stack.build()
  console.error(`[containers] the images built in ${seconds(t0)}`)
}, 600_000)
afterAll(() => {
  if (!stack) return
  const t0 = performance.now()
  stack.down()
  console.error(`[containers] down -v in ${seconds(t0)}`)
}, 120_000)

/** every accepted order of a product final (none pending), read through the API */
const finalOrders = (api: Client, productId: string, count: number) =>
  eventually(
    async () => {
      const { body } = await api.get<{ items: Order[] }>(`/orders/product/${productId}?limit=100`)
      return body.items.length === count && body.items.every((o) => o.status !== 'pending') && body.items
    },
    { timeout: 60_000, interval: 200, what: `${count} orders final` },
  )

describe('the images', () => {
  it('when built from the checkout, then they run as non-root with a health check and carry no tests, testkit, tools, system tests or type packages', () => {
    for (const [service, image] of Object.entries(stack.images())) {
      const [user, health, size] = stack.docker('image', 'inspect', '-f', '{{.Config.User}}|{{json .Config.Healthcheck.Test}}|{{.Size}}', image).trim().split('|')
      console.error(`[containers] image ${image}: ${(Number(size) / 1e6).toFixed(0)} MB`)
      expect(user).toBe('bun')
      expect(health).toContain(`/ready`)
      const files = stack.docker('run', '--rm', '--entrypoint', 'find', image, '/app', '-maxdepth', '3', '-not', '-path', '*/node_modules/*').split('\n')
      expect(files).toContain(`/app/${service}/src/main.ts`)
      expect(files.filter((f) => /\/test$|\.test\.ts$|^\/app\/(testkit|tools|system-tests)\/|\/\.git$/.test(f))).toEqual([])
      const store = stack.docker('run', '--rm', '--entrypoint', 'ls', image, '/app/node_modules/.bun').split('\n')
      expect(store.filter((p) => /^(typescript|@types\+|bun-types|testcontainers|autocannon)/.test(p))).toEqual([])
    }
  })
})

describe('compose up', () => {
  it("when the stack is up and healthy, then the seed's flow works on the published ports", async () => {
    const t0 = performance.now()
    stack.up()
    await stack.healthy()
    console.error(`[containers] up and healthy in ${seconds(t0)}`)
    const product = client(stack.urls('product')[0]!)
    const order = client(stack.urls('order')[0]!)

    const created = await product.post('/products', { name: 'Coffee beans', price: 19.99, qty: 10 })
    expectJson(created, 201, Product)
    const id = created.body.id as string
    expect(created.headers.get('location')).toBe(`/products/${id}`)
    const first = await product.get(`/products/${id}`)
    const second = await product.get(`/products/${id}`)
    expect([first.headers.get('x-cache'), second.headers.get('x-cache')]).toEqual(['MISS', 'HIT'])
    expectJson(second, 200, Product)

    const placed = await order.post('/orders', { productId: id, price: 19.99, qty: 2 }, { 'x-correlation-id': 'ci-flow' })
    expectJson(placed, 201, Order)
    expect(placed.body).toMatchObject({ status: 'pending', unitPrice: '19.99', totalPrice: '39.98' })
    const confirmed = await eventually(
      async () => {
        const r = await order.get(`/orders/${placed.body.id}`)
        return r.body?.status === 'confirmed' && r
      },
      { timeout: 30_000, interval: 100, what: 'the order confirmed' },
    )
    expectJson(confirmed, 200, Order)
    expect((await product.get(`/products/${id}`)).body.qty).toBe(8)

    const listed = await order.get(`/orders/product/${id}?limit=20`)
    expectJson(listed, 200, OrderPage)
    expect(listed.body.items.map((o: Order) => [o.id, o.status])).toEqual([[placed.body.id, 'confirmed']])

    // the front door: the same product through the bff, and the seed's summary of it
    const bff = client(stack.urls('bff')[0]!)
    expect((await bff.get(`/products/${id}`)).body).toMatchObject({ id, qty: 8 })
    const summary = await bff.get(`/order-summary/${id}`)
    expectJson(summary, 200, OrderSummary)
    expect(summary.body).toMatchObject({ product: { id, currentStock: 8 }, orders: [{ id: placed.body.id, status: 'confirmed' }], totalOrders: 1 })
  }, 300_000)

  it('when scaled to two replicas of each service, then 50 concurrent orders on a stock of 20 confirm exactly 20 and leave stock 0', async () => {
    const t0 = performance.now()
    stack.up('--scale', 'product=2', '--scale', 'order=2')
    await stack.healthy()
    const products = stack.urls('product').map((url) => client(url))
    const orders = stack.urls('order').map((url) => client(url))
    console.error(`[containers] scaled to ${products.length} product + ${orders.length} order replicas, healthy in ${seconds(t0)}`)
    expect([products.length, orders.length]).toEqual([2, 2])

    const { body: p } = await products[0]!.post('/products', { name: 'scarce', price: '3.00', qty: 20 })
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => orders[i % 2]!.post<Order>('/orders', { productId: p.id, qty: 1 })))
    for (const r of replies) expect([201, 409]).toContain(r.status) // 409: stock visibly short already
    for (const r of replies.filter((r) => r.status === 201)) expectSchema(Order, r.body)
    const accepted = replies.filter((r) => r.status === 201).length

    const final = await finalOrders(orders[1]!, p.id, accepted)
    expect(final.filter((o) => o.status === 'confirmed').length).toBe(20)
    expect(final.filter((o) => o.status === 'rejected').every((o) => o.rejectionReason === 'insufficient_stock')).toBe(true)
    for (const api of products) expect((await api.get(`/products/${p.id}`)).body.qty).toBe(0)
  }, 300_000)
})
