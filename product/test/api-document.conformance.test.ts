import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { eventually, jamQueue, mintToken } from '@shop/testkit'
import { conformance } from '@shop/testkit/docs'
import { productBehindDbHop } from './env.ts'

// product reaches PostgreSQL through a TCP hop, so the 503 every route documents can be shown
// too; the limits are low enough for one caller to reach them
const LIMIT = 40
let w: Awaited<ReturnType<typeof productBehindDbHop>>
// a consumer not restored within a second fails /health, so that its 503 can be shown as well
beforeAll(async () => (w = await productBehindDbHop('pdoc', { RATE_LIMIT_WRITES: String(LIMIT), RATE_LIMIT_READS: String(LIMIT), AMQP_CONSUMER_RESTORE_SECONDS: '1' })))
afterAll(() => w.stop())

const unknownId = '0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24'

describe("product's OpenAPI document against the server's answers", () => {
  it('when every route is called into each of its outcomes, then each answer is documented and each documented answer occurs', async () => {
    const check = conformance((await w.api.get('/docs/json')).body, w.api)
    const send = check.send
    const item = '/products/{id}'
    const customer = await mintToken({ sub: 'no-staff', scope: 'orders:write' })
    const flood = await mintToken({ sub: 'flood' })
    const huge = { name: 'x'.repeat(70_000), price: '1.00', qty: 1 }

    await send('GET', '/health', '/health')
    await send('GET', '/ready', '/ready')
    const unjam = await jamQueue(w.iso, w.iso.queues.product)
    try {
      await eventually(async () => (await w.api.get('/health')).status === 503, { what: '/health failing' })
      await send('GET', '/health', '/health')
    } finally {
      await unjam()
    }
    await eventually(async () => (await w.api.get('/health')).status === 200, { what: '/health ok again' })
    const created = await send('POST', '/products', '/products', { body: { name: 'documented', price: '2.50', qty: 3 } })
    const id = created.body.id
    await send('POST', '/products', '/products', { body: { price: '2.50', qty: 3 } })
    await send('POST', '/products', '/products', { body: 'name=x', headers: { 'content-type': 'text/plain' } })
    await send('POST', '/products', '/products', { body: { name: 'x', price: 2.555, qty: 1 } })
    await send('POST', '/products', '/products', { body: huge })
    await send('POST', '/products', '/products', { body: { name: 'x', price: '1.00', qty: 1 }, token: null })
    await send('POST', '/products', '/products', { body: { name: 'x', price: '1.00', qty: 1 }, token: customer })
    await send('GET', '/products', '/products?limit=2', { token: null })
    await send('GET', '/products', '/products?limit=abc')
    await send('GET', '/products', '/products', { token: 'not-a-jwt' })
    await send('GET', item, `/products/${id}`, { token: null })
    await send('GET', item, '/products/nope')
    await send('GET', item, `/products/${unknownId}`)
    await send('GET', item, `/products/${id}`, { token: 'not-a-jwt' })
    await send('GET', item, `/products/${id}`, { headers: { 'if-none-match': created.headers.get('etag')! } })
    await send('PATCH', item, `/products/${id}`, { body: { qty: 4 } })
    await send('PATCH', item, `/products/${id}`, { body: { qty: -4 } })
    await send('PATCH', item, `/products/${id}`, { body: 'qty=4', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    await send('PATCH', item, `/products/${id}`, { body: { price: 1.001 } })
    await send('PATCH', item, `/products/${unknownId}`, { body: { qty: 4 } })
    await send('PATCH', item, `/products/${id}`, { body: huge })
    await send('PATCH', item, `/products/${id}`, { body: { qty: 4 }, token: null })
    await send('PATCH', item, `/products/${id}`, { body: { qty: 4 }, token: customer })
    await send('PATCH', item, `/products/${id}`, { body: { qtyDelta: -1000 } })
    await send('PATCH', item, `/products/${id}`, { body: { qty: 4, qtyDelta: 1 } })
    await send('PATCH', item, `/products/${id}`, { body: { qty: 4 }, headers: { 'if-match': created.headers.get('etag')! } }) // stale by now
    await send('DELETE', item, `/products/${id}`, { headers: { 'if-match': created.headers.get('etag')! } })
    await send('DELETE', item, '/products/nope')
    await send('DELETE', item, `/products/${unknownId}`)
    await send('DELETE', item, `/products/${id}`, { token: null })
    await send('DELETE', item, `/products/${id}`, { token: customer })
    const doomed = (await w.api.post('/products', { name: 'doomed', price: '1.00', qty: 1 })).body
    await send('DELETE', item, `/products/${doomed.id}`)

    // one caller past its limits: reads and writes each count per window
    const flooded = w.api.as(flood)
    for (let i = 0; i < LIMIT; i++) await Promise.all([flooded.get(`/products/${id}`), flooded.delete(`/products/${unknownId}`)])
    await send('GET', '/products', '/products', { token: flood })
    await send('GET', item, `/products/${id}`, { token: flood })
    await send('POST', '/products', '/products', { body: { name: 'x', price: '1.00', qty: 1 }, token: flood })
    await send('PATCH', item, `/products/${id}`, { body: { qty: 4 }, token: flood })
    await send('DELETE', item, `/products/${id}`, { token: flood })

    await w.db.cut()
    try {
      await send('GET', '/ready', '/ready')
      await send('POST', '/products', '/products', { body: { name: 'x', price: '1.00', qty: 1 } })
      await send('GET', '/products', '/products')
      await send('GET', item, `/products/${crypto.randomUUID()}`) // not cached, so it asks the database
      await send('PATCH', item, `/products/${id}`, { body: { qty: 5 } })
      await send('DELETE', item, `/products/${id}`)
    } finally {
      await w.db.restore()
    }

    expect(check.undocumented()).toEqual([])
    expect(check.neverSent()).toEqual([])
  }, 30_000)
})
