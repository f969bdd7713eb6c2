import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { expectProblem } from '@shop/testkit/expect'
import { mintToken, newSigner } from '@shop/testkit'
import { bffWorld, type BffWorld } from './env.ts'

let w: BffWorld
beforeAll(async () => (w = await bffWorld('bun', { MAX_BODY_BYTES: '2048' })))
afterAll(() => w.stop())

// what the bff refuses at the door, as problem+json, before anything reaches a service
describe('bad input at the door', () => {
  const nothingForwarded = () => expect(w.product.seen.length + w.order.seen.length).toBe(0)

  it('when a body announces more than MAX_BODY_BYTES, then 413 before it is read', async () => {
    expectProblem(await w.api.send('POST', '/products', { raw: JSON.stringify({ name: 'x'.repeat(4000), price: '1', qty: 1 }), headers: { 'content-type': 'application/json' } }), 413)
    nothingForwarded()
  })

  it('when a chunked body grows past MAX_BODY_BYTES, then 413', async () => {
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode(i ? 'x'.repeat(1000) : '{"name":"'))
        c.close()
      },
    })
    const res = await fetch(`${w.url}/orders`, { method: 'POST', body: chunks, headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(413)
    expect(res.headers.get('content-type')).toStartWith('application/problem+json')
    nothingForwarded()
  })

  it('when a body is not JSON, or not sent as JSON, then 400 or 415 naming it', async () => {
    expectProblem(await w.api.send('POST', '/orders', { raw: '{"productId":', headers: { 'content-type': 'application/json' } }), 400, 'body')
    expectProblem(await w.api.send('POST', '/orders', { raw: 'qty=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415)
    nothingForwarded()
  })

  it('when a token is not valid, then 401 with WWW-Authenticate, and it goes no further', async () => {
    const forged = await mintToken({ signer: await newSigner() })
    const res = await w.api.as(forged).get('/products')
    expectProblem(res, 401)
    expect(res.headers.get('www-authenticate')).toContain('invalid_token')
    nothingForwarded()
  })

  it('when the summary is asked for a malformed id or page, then 400 naming the parameter', async () => {
    expectProblem(await w.api.get('/order-summary/not-a-uuid'), 400, 'params.productId')
    expectProblem(await w.api.get(`/order-summary/${crypto.randomUUID()}?limit=1000`), 400, 'query.limit')
    nothingForwarded()
  })

  it('when a path is neither the bff\'s nor a service\'s, then a 404 problem', async () => {
    expectProblem(await w.api.get('/admin'), 404)
    expectProblem(await w.api.get('/productsx'), 404)
    nothingForwarded()
  })

  it('when a request id is not a safe one, then the bff makes its own and sends that on', async () => {
    w.product.answers(() => Response.json({ items: [], nextCursor: null }))
    const res = await w.api.get('/products', { 'x-request-id': 'not safe; it has spaces' })
    const id = res.headers.get('x-request-id')!
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(w.product.last().headers.get('x-request-id')).toBe(id)
    w.product.seen.length = 0
  })
})
