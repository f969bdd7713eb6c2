import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'bun:test'
import { expectProblem } from '@shop/testkit/expect'
import { mintToken, runtimes } from '@shop/testkit'
import { bffWorld, type BffWorld } from './env.ts'

let w: BffWorld
const product = { id: '0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24', name: 'Coffee beans', price: '19.99', qty: 10, version: 1 }
const problem = (status: number, title: string) =>
  Response.json({ type: 'https://shop.example/problems/x', title, status }, { status, headers: { 'content-type': 'application/problem+json' } })

// `/products…` goes to product as the caller sent it, and product's answer comes back as it gave it
describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await bffWorld(runtime)))
  afterAll(() => w.stop())
  beforeEach(() => w.product.answers(() => Response.json(product)))

  it('when a product is created, then product gets the same request and the caller its 201, with Location made the bff\'s and the ETag', async () => {
    w.product.answers(() => Response.json(product, { status: 201, headers: { location: `${w.product.url}/products/${product.id}`, etag: '"1"' } }))
    const token = await mintToken({ sub: 'staff-1', scope: 'products:write' })
    const res = await w.api.as(token).post('/products', { name: 'Coffee beans', price: 19.99, qty: 10 })
    expect(res.status).toBe(201)
    expect(res.body).toEqual(product)
    expect(res.headers.get('location')).toBe(`/products/${product.id}`)
    expect(res.headers.get('etag')).toBe('"1"')
    const sent = w.product.last()
    expect([sent.method, sent.path]).toEqual(['POST', '/products'])
    expect(JSON.parse(sent.body)).toEqual({ name: 'Coffee beans', price: 19.99, qty: 10 })
    expect(sent.headers.get('content-type')).toBe('application/json')
    // the caller's token, exactly: the bff has no credential of its own to add
    expect(sent.headers.get('authorization')).toBe(`Bearer ${token}`)
  })

  it('when the caller sends no token, then none reaches product', async () => {
    const res = await w.api.as(null).get(`/products/${product.id}`)
    expect(res.status).toBe(200)
    expect(w.product.last().headers.has('authorization')).toBe(false)
  })

  it('when a read carries If-None-Match, then product gets it and its 304 comes back without a body, with the ETag', async () => {
    w.product.answers((seen) =>
      seen.headers.get('if-none-match') === '"3"' ? new Response(null, { status: 304, headers: { etag: '"3"', 'x-cache': 'HIT' } }) : Response.json(product),
    )
    const res = await w.api.get(`/products/${product.id}`, { 'if-none-match': '"3"' })
    expect([res.status, res.text]).toEqual([304, ''])
    expect(res.headers.get('etag')).toBe('"3"')
    expect(res.headers.get('x-cache')).toBe('HIT')
  })

  it('when a change carries If-Match and product answers 412, then the problem and the current ETag come back as product said them', async () => {
    w.product.answers((seen) => {
      const res = problem(412, `If-Match ${seen.headers.get('if-match')} is not the current version`)
      res.headers.set('etag', '"4"')
      return res
    })
    const res = await w.api.patch(`/products/${product.id}`, { qty: 1 }, { 'if-match': '"2"' })
    expectProblem(res, 412)
    expect(res.body.title).toBe('If-Match "2" is not the current version')
    expect(res.headers.get('etag')).toBe('"4"')
    expect(w.product.last().method).toBe('PATCH')
  })

  it('when a list is asked with limit and cursor, then the query reaches product unchanged', async () => {
    w.product.answers(() => Response.json({ items: [product], nextCursor: null }))
    const res = await w.api.get(`/products?limit=5&cursor=${product.id}`)
    expect(res.status).toBe(200)
    expect(w.product.last().path).toBe(`/products?limit=5&cursor=${product.id}`)
  })

  it('when a product is deleted, then product gets the DELETE and its 204 comes back empty', async () => {
    w.product.answers(() => new Response(null, { status: 204 }))
    const res = await w.api.delete(`/products/${product.id}`, { 'if-match': '*' })
    expect([res.status, res.text]).toEqual([204, ''])
    expect([w.product.last().method, w.product.last().headers.get('if-match')]).toEqual(['DELETE', '*'])
  })

  it('when the caller names a correlation id, then product gets it as both request ids and the answer echoes it', async () => {
    const res = await w.api.get(`/products/${product.id}`, { 'x-correlation-id': 'seed-corr-42' })
    expect(res.headers.get('x-correlation-id')).toBe('seed-corr-42')
    expect(res.headers.get('x-request-id')).toBe('seed-corr-42')
    const sent = w.product.last().headers
    expect([sent.get('x-request-id'), sent.get('x-correlation-id')]).toEqual(['seed-corr-42', 'seed-corr-42'])
  })

  it('when the caller sends a traceparent, then product gets that trace (the bff here does not trace: passed as it came)', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    await w.api.get(`/products/${product.id}`, { traceparent, tracestate: 'shop=1' })
    expect(w.product.last().headers.get('traceparent')).toBe(traceparent)
    expect(w.product.last().headers.get('tracestate')).toBe('shop=1')
  })

  it('when the caller claims an address or sends cookies, then product gets the client the bff saw, and no cookie', async () => {
    await w.api.get(`/products/${product.id}`, { 'x-forwarded-for': '203.0.113.9', forwarded: 'for=203.0.113.9', cookie: 'session=s3cr3t' })
    const sent = w.product.last().headers
    expect(sent.get('x-forwarded-for')).toBe('127.0.0.1')
    expect(sent.has('forwarded')).toBe(false)
    expect(sent.has('cookie')).toBe(false)
  })

  it('when product answers a header the bff does not know, then it comes back too; what belonged to its connection does not', async () => {
    w.product.answers(() => Response.json(product, { headers: { 'x-cache': 'MISS', 'x-something-new': 'yes', 'keep-alive': 'timeout=5' } }))
    const res = await w.api.get(`/products/${product.id}`)
    expect(res.headers.get('x-cache')).toBe('MISS')
    expect(res.headers.get('x-something-new')).toBe('yes')
    expect(res.headers.has('keep-alive')).toBe(false)
  })

  it('when product answers a 404 problem, then the caller gets it as product wrote it', async () => {
    w.product.answers(() => problem(404, 'product 0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24 was not found'))
    const res = await w.api.get(`/products/${product.id}`)
    expectProblem(res, 404)
    expect(res.body.title).toBe('product 0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24 was not found')
  })
})
