/**
 * `bun run bench`: product, order and the bff in front of them as production processes
 * (LOG_LEVEL=warn), the services on fresh databases of this machine's infrastructure, chosen as
 * the tests choose it. The closed-loop scenarios run with autocannon (50 connections; one for the
 * cached read's 1-connection pair); the constant-rate one with the bench's own open-loop sender
 * (open-loop.ts), which charges a late answer from when its request was due. After each order
 * scenario the saga is drained and checked: a broken invariant or an order left pending fails the
 * command. Then the write fence (write-fence.ts): sequential PATCH /products/:id, one connection,
 * on a product with the near cache off, then on one with it on while 1, 2 and 4 replicas hold a
 * read lease. Prints one table, then the near-cache, per-step and CPU-per-request tables, what the
 * bff adds to the cached read (its added p50 beside the goal), what the fence adds to a write, the
 * saga summaries, the cache hit's req/s as a percentage of /health's (beside the goal) and peak
 * RSS, and writes them to results/latest.{json,md} (docs/performance.md). Goals are measured,
 * never asserted.
 *   bun run bench [--rate 2000] [--seconds 10] [--constant-seconds 30] [--fence-seconds 5] [--only 'POST /orders,GET /health,write fence']
 *                 [--auth on|off] [--metrics on|off] [--tracing off|on] [--queue-type quorum|classic] [--no-progress]
 * `--only` takes scenario names' beginnings; 'write fence' is the write fence. `--tracing on` exports
 * every span over OTLP/HTTP to a receiver the bench runs (it reads and drops them).
 */
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { parseArgs } from 'node:util'
import { bffEnv, isolate, spawnService, client, mintToken, type ServiceProcess } from '@shop/testkit'
import { run, scenarios, type Outcome } from './scenarios.ts'
import { drain, summarize, type SagaSummary } from './saga.ts'
import { bffAdded, bffGoalLines, bffTable, cpuTable, fenceTable, hitGoalLine, hitOverHealth, nearCacheTable, placingTable, save, table, type Report } from './report.ts'
import { cpuMeter } from './cpu.ts'
import { nearCacheMeter } from './near-cache.ts'
import { placingMeter } from './placing.ts'
import { measureWriteFence, WRITE_FENCE, type WriteFence } from './write-fence.ts'

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '10' },
    'constant-seconds': { type: 'string', default: '30' },
    'fence-seconds': { type: 'string', default: '5' },
    'no-progress': { type: 'boolean', default: false },
    only: { type: 'string' },
    auth: { type: 'string', default: 'on' },
    metrics: { type: 'string', default: 'on' },
    tracing: { type: 'string', default: 'off' },
    'queue-type': { type: 'string', default: 'quorum' },
  },
})
const rate = Number(args.rate)
const seconds = Number(args.seconds)
const constantSeconds = Number(args['constant-seconds'])
const fenceSeconds = Number(args['fence-seconds'])
const only = args.only?.split(',').map((p) => p.trim())
const picked = (name: string) => !only || only.some((p) => name.startsWith(p))
const progress = !args['no-progress'] && process.stderr.isTTY !== false
const say = (msg: string) => console.error(`[bench] ${msg}`)

const ORDER_STOCK = 50_000_000
const COLD_PRODUCTS = 400_000
// otherwise the services' own defaults; the limits raised for the bench's own few callers
const production = {
  LOG_LEVEL: 'warn',
  RATE_LIMIT_ORDERS: '1000000000',
  RATE_LIMIT_WRITES: '1000000000',
  RATE_LIMIT_READS: '1000000000',
  ...(args.auth === 'off' ? { AUTH: 'off' } : {}),
  METRICS: args.metrics,
  QUEUE_TYPE: args['queue-type'],
}
// a stand-in for an OpenTelemetry collector: takes the OTLP/HTTP exports and drops them
let exports = 0
const receiver =
  args.tracing === 'on'
    ? Bun.serve({
        port: 0,
        fetch: async (req) => {
          await req.arrayBuffer()
          exports++
          return Response.json({})
        },
      })
    : undefined
if (receiver) Object.assign(production, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}` })

const iso = await isolate('bench')
const running: ServiceProcess[] = []
const rss = new Map<ServiceProcess, number>()
const sampleRss = () => {
  for (const p of running) {
    const status = readFileSync(`/proc/${p.pid}/status`, 'utf8')
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0)
    rss.set(p, Math.max(rss.get(p) ?? 0, Math.round(hwm / 1024)))
  }
}

try {
  say(`infrastructure: ${iso.infra.source}; starting product, order and the bff as processes`)
  const product = await spawnService('product', iso.env('product', production))
  running.push(product)
  const order = await spawnService('order', iso.env('order', { ...production, PRODUCT_URL: product.url }))
  running.push(order)
  // the same env (what it does not read it ignores), its own per-caller limit raised as theirs are
  const bff = await spawnService('bff', bffEnv({ productUrl: product.url, orderUrl: order.url }, { ...production, RATE_LIMIT_REQUESTS: '1000000000' }))
  running.push(bff)
  const urls = { product: product.url, order: order.url, bff: bff.url }
  const products = client(product.url)
  const orders = client(order.url)

  // tokens as a customer and a member of staff would hold them: one each, reused for every request
  const tokens = {
    customer: await mintToken({ sub: 'bench-customer', scope: 'orders:write', expiresIn: 6 * 3600 }),
    staff: await mintToken({ sub: 'bench-staff', scope: 'products:write orders:read', expiresIn: 6 * 3600 }),
  }
  say(`auth ${args.auth}, metrics ${args.metrics}, tracing ${args.tracing}, ${args['queue-type']} queues; seeding`)
  const create = async (name: string, qty: number) => (await products.post('/products', { name, price: '1.00', qty })).body.id as string
  const seed = {
    hotProductId: await create('hot', 1000),
    closedLoopProductId: await create('closed loop', ORDER_STOCK),
    constantRateProductId: await create('constant rate', ORDER_STOCK),
    listProductId: await create('listed', 1000),
    // only the miss scenario needs them, and they take a while
    coldProductIds: !picked('GET /products/:id 10% miss')
      ? []
      : (
          await iso.db('product')<{ id: string }[]>`
            insert into products (id, name, price, qty)
            select gen_random_uuid(), 'cold ' || n, 1.00, 10 from generate_series(1, ${COLD_PRODUCTS}) n
            returning id`
        ).map((r) => r.id),
  }
  for (let i = 0; i < 20; i++) await orders.post('/orders', { productId: seed.listProductId, qty: 1 })
  const chosen = scenarios(urls, seed, { seconds, rate, constantSeconds, tokens }).filter((c) => picked(c.name))

  if (chosen.length) {
    say('warming up')
    const warm = await create('warm-up', 1_000_000)
    for (const s of scenarios(urls, { ...seed, closedLoopProductId: warm, constantRateProductId: warm }, { seconds: 2, rate, constantSeconds: 2, tokens }))
      if (!s.intendedRate) await run(s, false)
    await drain(iso.db('order'), warm)
  }

  const outcomes: Outcome[] = []
  const saga: Record<string, SagaSummary> = {}
  const sampler = setInterval(sampleRss, 250)
  const cpu = cpuMeter({ product: product.pid, order: order.pid, bff: bff.pid })
  const near = nearCacheMeter({ product: product.url, order: order.url })
  const placing = placingMeter(order.url)
  for (const s of chosen) {
    say(`running ${s.name}`)
    const nearBefore = await near.snapshot()
    const placingBefore = await placing.snapshot()
    const before = cpu.snapshot()
    const outcome = await run(s, progress)
    if (cpu.supported) outcome.cpu = cpu.since(before, outcome.total)
    outcome.nearCache = await near.since(nearBefore)
    outcome.placing = await placing.since(placingBefore)
    outcomes.push(outcome)
    const productId = s.name.startsWith('POST /orders closed') ? seed.closedLoopProductId : s.intendedRate ? seed.constantRateProductId : undefined
    if (productId) {
      const drained = await drain(iso.db('order'), productId)
      saga[s.name] = await summarize(iso.db('order'), iso.db('product'), productId, ORDER_STOCK, drained)
    }
  }
  clearInterval(sampler)
  sampleRss()

  // after the scenarios, so that its extra replicas take none of their CPU
  let writeFence: WriteFence | undefined
  if (picked(WRITE_FENCE))
    writeFence = await measureWriteFence({
      writer: product,
      spawnProduct: (extra) => spawnService('product', iso.env('product', { ...production, ...extra })),
      redisUrl: iso.infra.redisUrl,
      prefix: iso.env('product').CACHE_PREFIX!,
      productId: await create('write fence', 1000),
      staffToken: tokens.staff,
      seconds: fenceSeconds,
      progress,
      say,
    })

  const by = (prefix: string) => outcomes.find((o) => o.scenario.startsWith(prefix))
  const ratios: Record<string, number> = {}
  const constant = by('POST /orders at')
  if (constant) ratios['constant-rate achieved over intended'] = constant.achievedRatio!
  const report: Report = {
    when: new Date().toISOString(),
    auth: args.auth,
    observability: `metrics ${args.metrics}, tracing ${args.tracing}, ${args['queue-type']} queues`,
    machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`}`,
    outcomes,
    saga,
    ratios,
    bff: bffAdded(outcomes),
    hitOverHealth: hitOverHealth(outcomes),
    writeFence,
    peakRssMb: Object.fromEntries(running.map((p) => [p.name, rss.get(p) ?? 0])),
  }

  if (outcomes.length) console.log(`\n${table(outcomes)}\n`)
  if (outcomes.some((o) => Object.keys(o.nearCache ?? {}).length))
    console.log(`near cache while each scenario ran (reads answered from process memory, of all its reads):\n${nearCacheTable(outcomes)}\n`)
  if (outcomes.some((o) => Object.keys(o.placing ?? {}).length))
    console.log(`where POST /orders spent its time, by step (ms; order's shop_order_placing_seconds, quantiles from its buckets):\n${placingTable(outcomes)}\n`)
  if (cpu.supported && outcomes.length) console.log(`CPU per request (µs, by process) and the machine's time (%) while each scenario ran:\n${cpuTable(outcomes)}\n`)
  if (report.bff.length)
    console.log(`what the bff adds to the cached read (latency to 0.01 ms; CPU µs per request, by process):\n${bffTable(outcomes)}\n${bffGoalLines(report.bff).join('\n')}\n`)
  if (writeFence)
    console.log(`what the near cache's fence adds to a write (sequential PATCH /products/:id, 1 connection; latency to 0.01 ms):\n${fenceTable(writeFence)}\n`)
  for (const [name, s] of Object.entries(saga))
    console.log(
      `saga after ${name}: ${s.accepted} accepted -> ${s.confirmed} confirmed, ${s.rejected} rejected, ${s.pending} pending; ` +
        `drained ${s.drainSeconds.toFixed(2)} s after the load; event lag p50 ${s.lagP50Ms} ms, p99 ${s.lagP99Ms} ms; ` +
        `invariant confirmed qty ${s.confirmedQty} + stock ${s.stock} = ${s.initialStock}: ${s.invariantHolds ? 'holds' : 'BROKEN'}`,
    )
  if (report.hitOverHealth) console.log(hitGoalLine(report.hitOverHealth))
  for (const [k, v] of Object.entries(ratios)) console.log(`${k}: ${v.toFixed(3)}`)
  for (const [k, v] of Object.entries(report.peakRssMb)) console.log(`peak RSS ${k}: ${v} MB`)
  if (receiver) say(`OTLP exports received: ${exports}`)
  say(`results: ${save(report)}`)
  process.exitCode = Object.values(saga).every((s) => s.invariantHolds && s.pending === 0) ? 0 : 1
} finally {
  for (const p of running.reverse()) await p.stop()
  receiver?.stop(true)
  await iso.cleanup()
}
