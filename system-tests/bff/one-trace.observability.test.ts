import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, eventually, mintToken, otlpReceiver, SpanKinds } from '@shop/testkit'
import { frontDoorWorld, type FrontDoorWorld } from './world.ts'

// An OTLP/HTTP receiver (the testkit's, as tracing.observability.test.ts uses without the bff),
// and the three services as processes exporting to it: an order placed from a browser through the
// bff is one trace, from the browser's traceparent through the bff, order, RabbitMQ and product,
// and back to order.
const { SERVER, CLIENT, PRODUCER, CONSUMER } = SpanKinds

let w: FrontDoorWorld
const receiver = otlpReceiver()
const received = receiver.spans

beforeAll(async () => {
  w = await frontDoorWorld('bfftrace', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' })
}, 60_000)
afterAll(async () => {
  await w.stop()
  receiver.stop()
})

describe('one trace through the front door', () => {
  it("when a browser places an order through the bff with its traceparent, then one trace runs bff, order, RabbitMQ, product and back, parent by parent", async () => {
    const staff = client(w.bff.url, { token: await mintToken({ sub: 'staff-1', scope: 'products:write' }) })
    const customer = client(w.bff.url, { token: await mintToken({ sub: 'customer-1', scope: 'orders:write' }) })
    const { body: p } = await staff.post('/products', { name: 'traced', price: '2.00', qty: 5 })

    // the browser's own span: a trace id the test knows
    const traceId = crypto.randomUUID().replaceAll('-', '')
    const browserSpan = crypto.randomUUID().replaceAll('-', '').slice(0, 16)
    const placed = await customer.post('/orders', { productId: p.id, qty: 1 }, { traceparent: `00-${traceId}-${browserSpan}-01`, 'x-correlation-id': 'browser-7' })
    expect(placed.status).toBe(201)
    expect(placed.headers.get('x-correlation-id')).toBe('browser-7')

    const inTrace = () => received.filter((s) => s.traceId === traceId)
    const childOf = (parentSpanId: string, service: string, kind: number, name: string) =>
      eventually(() => inTrace().find((s) => s.parentSpanId === parentSpanId && s.service === service && s.kind === kind && s.name === name), {
        what: `${service} ${name} under ${parentSpanId}`,
      })

    const door = await childOf(browserSpan, 'bff', SERVER, 'POST /orders')
    const hop = await childOf(door.spanId, 'bff', CLIENT, 'POST')
    const root = await childOf(hop.spanId, 'order', SERVER, 'POST /orders')
    const check = await childOf(root.spanId, 'order', CLIENT, 'GET /products/:id')
    await childOf(check.spanId, 'product', SERVER, 'GET /products/:id')
    const published = await childOf(root.spanId, 'order', PRODUCER, 'order.created publish')
    const taken = await childOf(published.spanId, 'product', CONSUMER, 'order.created process')
    const answered = await childOf(taken.spanId, 'product', PRODUCER, 'stock.reserved publish')
    await childOf(answered.spanId, 'order', CONSUMER, 'stock.reserved process')
    // nothing of this request started a trace of its own
    expect(received.filter((s) => s.name === 'POST /orders' && s.traceId !== traceId && s.service === 'bff')).toEqual([])
  }, 30_000)

  it("when the summary is asked, then the bff's calls to product and order are children of its server span, in the caller's trace", async () => {
    const staff = client(w.bff.url, { token: await mintToken({ sub: 'staff-1', scope: 'products:write orders:read' }) })
    const { body: p } = await staff.post('/products', { name: 'summed', price: '1.00', qty: 1 })
    const traceId = crypto.randomUUID().replaceAll('-', '')
    const browserSpan = crypto.randomUUID().replaceAll('-', '').slice(0, 16)
    expect((await staff.get(`/order-summary/${p.id}`, { traceparent: `00-${traceId}-${browserSpan}-01` })).status).toBe(200)
    const door = await eventually(() => received.find((s) => s.traceId === traceId && s.parentSpanId === browserSpan && s.name === 'GET /order-summary/:productId'), {
      what: "the bff's summary span",
    })
    for (const [name, service, route] of [
      ['GET /products/:id', 'product', 'GET /products/:id'],
      ['GET /orders/product/:productId', 'order', 'GET /orders/product/:productId'],
    ] as const) {
      const call = await eventually(() => received.find((s) => s.traceId === traceId && s.parentSpanId === door.spanId && s.kind === CLIENT && s.name === name), {
        what: `the bff's ${name} call`,
      })
      await eventually(() => received.find((s) => s.parentSpanId === call.spanId && s.service === service && s.kind === SERVER && s.name === route), {
        what: `${service}'s ${route} span`,
      })
    }
  }, 30_000)
})
