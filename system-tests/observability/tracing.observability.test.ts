import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, eventually, isolate, otlpReceiver, spawnService, SpanKinds, type Isolated, type ReceivedSpan, type ServiceProcess } from '@shop/testkit'

// An OTLP/HTTP receiver on a free local port (the testkit's), as a collector would be, and both
// services as processes exporting to it: one order must come back as one trace across both.
let iso: Isolated
const receiver = otlpReceiver()
const received = receiver.spans
const running: ServiceProcess[] = []
let orders: ReturnType<typeof client>
let products: ReturnType<typeof client>

beforeAll(async () => {
  iso = await isolate('tracing')
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100', LOG_LEVEL: 'info' }
  const product = await spawnService('product', iso.env('product', otel))
  const order = await spawnService('order', iso.env('order', { ...otel, PRODUCT_URL: product.url }))
  running.push(product, order)
  products = client(product.url)
  orders = client(order.url)
})
afterAll(async () => {
  for (const p of running.reverse()) await p.stop()
  receiver.stop()
  await iso.cleanup()
})

const { SERVER, CLIENT, PRODUCER, CONSUMER } = SpanKinds

describe('traces', () => {
  it('when an order is placed, then one trace shows it end to end across both services, parent by parent', async () => {
    const p = (await products.post('/products', { name: 'traced', price: '2.00', qty: 5 })).body
    const placed = await orders.post('/orders', { productId: p.id, qty: 1 })
    expect(placed.status).toBe(201)
    await eventually(async () => (await orders.get(`/orders/${placed.body.id}`)).body.status === 'confirmed', { what: 'the order confirmed' })

    const root = await eventually(() => received.find((s) => s.service === 'order' && s.kind === SERVER && s.name === 'POST /orders'), {
      what: "order's POST /orders span",
    })
    const inTrace = () => received.filter((s) => s.traceId === root.traceId)
    const childOf = (parent: ReceivedSpan, service: string, kind: number, name: string) =>
      eventually(() => inTrace().find((s) => s.parentSpanId === parent.spanId && s.service === service && s.kind === kind && s.name === name), {
        what: `${service} ${name} under ${parent.name}`,
      })

    // the client as the service made it out (the peer here; behind TRUSTED_PROXIES, the visitor)
    expect(root.attributes?.find((a) => a.key === 'client.address')?.value.stringValue).toBe('127.0.0.1')
    const check = await childOf(root, 'order', CLIENT, 'GET /products/:id')
    await childOf(check, 'product', SERVER, 'GET /products/:id')
    const published = await childOf(root, 'order', PRODUCER, 'order.created publish')
    const taken = await childOf(published, 'product', CONSUMER, 'order.created process')
    const answered = await childOf(taken, 'product', PRODUCER, 'stock.reserved publish')
    await childOf(answered, 'order', CONSUMER, 'stock.reserved process')

    // a batch consumed together is one span linked to each message it took
    const batches = received.filter((s) => s.name.endsWith('process batch') && s.links?.some((l) => l.spanId === published.spanId))
    expect(batches.length).toBeLessThanOrEqual(1)

    // log lines carry the trace and span next to the request id
    const line = running[0]!.output().split('\n').find((l) => l.includes('order.created handled') && l.includes(placed.body.id))
    expect(JSON.parse(line!)).toMatchObject({ traceId: root.traceId, spanId: expect.stringMatching(/^[0-9a-f]{16}$/) })
  }, 30_000)

  it('when the sampler is always_off, then the service exports nothing and answers as usual', async () => {
    const quiet = await spawnService(
      'product',
      iso.env('product', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'quiet', OTEL_TRACES_SAMPLER: 'always_off', OTEL_BSP_SCHEDULE_DELAY: '100' }),
    )
    try {
      const api = client(quiet.url)
      const created = await api.post('/products', { name: 'untraced', price: '1.00', qty: 1 })
      expect(created.status).toBe(201)
      expect((await api.get(`/products/${created.body.id}`)).status).toBe(200)
    } finally {
      await quiet.stop() // flushes whatever it had
    }
    expect(received.filter((s) => s.service === 'quiet')).toEqual([])
  })
})
