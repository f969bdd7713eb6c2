import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { expectProblem } from '@shop/testkit/expect'
import { bffEnv, eventually, operatorToken, runtimes } from '@shop/testkit'
import { bffWorld, bootBff, type BffWorld } from './env.ts'
import { stubService } from './stubs.ts'

let w: BffWorld
const orderId = '0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d25'
const problem = (status: number, title: string, headers: Record<string, string> = {}) =>
  Response.json({ type: 'https://shop.example/problems/x', title, status }, { status, headers: { 'content-type': 'application/problem+json', ...headers } })

/** An event stream that sends `count` events `everyMs` apart, and notes when it is cancelled. */
function eventStream(count: number, everyMs: number) {
  const state = { cancelled: false }
  let timer: ReturnType<typeof setInterval>
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let n = 0
      const send = () => controller.enqueue(new TextEncoder().encode(`id: ${n}\nevent: status\ndata: {"n":${n}}\n\n`))
      send()
      timer = setInterval(() => {
        if (++n < count) return send()
        clearInterval(timer)
        controller.close()
      }, everyMs)
    },
    cancel() {
      state.cancelled = true
      clearInterval(timer)
    },
  })
  return { state, response: new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } }) }
}

// `/orders…`, any path under it, goes to order as the caller sent it; order's answer comes back as it gave it
describe.each(runtimes)('on %s', (runtime) => {
  beforeAll(async () => (w = await bffWorld(runtime)))
  afterAll(() => w.stop())

  it('when an order is placed with an Idempotency-Key, then order gets the key and the caller its 201 with Idempotent-Replayed and Location', async () => {
    w.order.answers((seen) =>
      Response.json({ id: orderId, key: seen.headers.get('idempotency-key') }, { status: 201, headers: { location: `/orders/${orderId}`, 'idempotent-replayed': 'true' } }),
    )
    const res = await w.api.post('/orders', { productId: orderId, qty: 2, price: 19.99 }, { 'idempotency-key': 'k-123' })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({ id: orderId, key: 'k-123' })
    expect(res.headers.get('location')).toBe(`/orders/${orderId}`)
    expect(res.headers.get('idempotent-replayed')).toBe('true')
    expect(JSON.parse(w.order.last().body)).toEqual({ productId: orderId, qty: 2, price: 19.99 })
  })

  it('when order answers 503 or 429 with Retry-After, then the caller gets that status, problem and Retry-After unchanged', async () => {
    for (const [status, retryAfter] of [[503, '7'], [429, '31']] as const) {
      w.order.answers(() => problem(status, `busy ${status}`, { 'retry-after': retryAfter, ...(status === 429 ? { 'ratelimit-limit': '120' } : {}) }))
      const res = await w.api.post('/orders', { productId: orderId, qty: 1 })
      expectProblem(res, status)
      expect(res.body.title).toBe(`busy ${status}`)
      expect(res.headers.get('retry-after')).toBe(retryAfter)
    }
    expect((await w.api.post('/orders', { productId: orderId, qty: 1 })).headers.get('ratelimit-limit')).toBe('120')
  })

  it('when a path under /orders is new to the bff (a timeline, a cancel), then it reaches order as asked', async () => {
    w.order.answers((seen) => Response.json({ path: seen.path, method: seen.method }))
    for (const [method, path] of [['GET', `/orders/${orderId}/timeline?limit=3`], ['DELETE', `/orders/${orderId}`], ['GET', `/orders/product/${orderId}?cursor=${orderId}`]] as const) {
      const res = await w.api.send(method, path, {})
      expect(res.body).toEqual({ path, method })
    }
  })

  it('when order answers an event stream, then each event reaches the caller as order sends it, with Last-Event-ID passed on', async () => {
    const stream = eventStream(4, 250)
    w.order.answers(() => stream.response)
    const started = performance.now()
    const res = await fetch(`${w.url}/orders/${orderId}/events`, { headers: { authorization: `Bearer ${await operatorToken()}`, accept: 'text/event-stream', 'last-event-id': '41' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    // nor may a proxy in front of the bff hold them back (nginx reads this)
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    expect(w.order.last().headers.get('last-event-id')).toBe('41')
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    const arrivals: { at: number; text: string }[] = []
    for (let part = await reader.read(); !part.done; part = await reader.read()) arrivals.push({ at: performance.now() - started, text: part.value })
    expect(arrivals.map((a) => a.text).join('')).toBe([0, 1, 2, 3].map((n) => `id: ${n}\nevent: status\ndata: {"n":${n}}\n\n`).join(''))
    // not held until the end: the first event came at least two intervals before the last
    expect(arrivals.at(-1)!.at - arrivals[0]!.at).toBeGreaterThan(450)
  })

  it('when the caller leaves an event stream, then the bff lets go of order\'s stream too', async () => {
    const stream = eventStream(1000, 50)
    w.order.answers(() => stream.response)
    const leaving = new AbortController()
    const res = await fetch(`${w.url}/orders/${orderId}/events`, { signal: leaving.signal, headers: { authorization: `Bearer ${await operatorToken()}` } })
    await res.body!.getReader().read()
    leaving.abort()
    await eventually(() => stream.state.cancelled, { what: "order's stream cancelled", timeout: 5000 })
  })
})

describe('the bff stopping', () => {
  it('when it stops (SIGTERM) with an event stream open, then the stream ends cleanly at once, so the caller reconnects elsewhere', async () => {
    const order = stubService()
    const stream = eventStream(1000, 100)
    order.answers(() => stream.response)
    const bff = await bootBff(bffEnv({ productUrl: order.url, orderUrl: order.url }))
    try {
      const res = await fetch(`${bff.url}/orders/${orderId}/events`, { headers: { authorization: `Bearer ${await operatorToken()}` } })
      const reader = res.body!.getReader()
      await reader.read()
      const stopping = performance.now()
      await bff.stop()
      for (let part = await reader.read(); !part.done; part = await reader.read());
      expect(performance.now() - stopping).toBeLessThan(1000)
      await eventually(() => stream.state.cancelled, { what: "order's stream let go", timeout: 2000 })
    } finally {
      order.stop()
    }
  })
})
