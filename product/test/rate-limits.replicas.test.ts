import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { client, eventually, isolate, mintToken, redisValues, spawnService, tcpProxy, type Isolated, type ServiceProcess } from '@shop/testkit'
import { expectProblem } from '@shop/testkit/expect'

// two replicas of product share their counters through Redis, as they would behind a balancer
let iso: Isolated
let replicas: ServiceProcess[]
const limits = { RATE_LIMIT_WRITES: '10', RATE_LIMIT_READS: '20', RATE_LIMIT_WINDOW_SECONDS: '600' }
beforeAll(async () => {
  iso = await isolate('ratelimit')
  replicas = await Promise.all([1, 2].map(() => spawnService('product', iso.env('product', limits))))
})
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()))
  await iso.cleanup()
})

const statuses = (replies: { status: number }[]) => replies.map((r) => r.status).sort()

/** What Redis holds for this run's anonymous-read counters, summed over keys. */
const readsCounted = async () =>
  Object.values(await redisValues(iso.infra.redisUrl, `${iso.env('product').CACHE_PREFIX}rl:reads:*`)).reduce((sum, v) => sum + Number(v), 0)

describe('rate limits', () => {
  it("when one caller's writes alternate between two replicas, then the 11th in the window gets 429 wherever it lands", async () => {
    const token = await mintToken({ sub: 'busy-staff', scope: 'products:write' })
    const apis = replicas.map((r) => client(r.url, { token }))
    const replies = []
    for (let i = 0; i < 14; i++) replies.push(await apis[i % 2]!.post('/products', { name: `n${i}`, price: '1.00', qty: 1 }))
    expect(statuses(replies)).toEqual([...Array(10).fill(201), ...Array(4).fill(429)])
    const refused = replies.find((r) => r.status === 429)!
    expectProblem(refused, 429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(refused.headers.get('ratelimit-limit')).toBe('10')
    expect(refused.headers.get('ratelimit-remaining')).toBe('0')
    const [row] = await iso.db('product')`select count(*)::int as n from products`
    expect(row!.n).toBe(10)
    // another caller has a window of their own
    const other = client(replicas[0]!.url, { token: await mintToken({ sub: 'other-staff', scope: 'products:write' }) })
    expect((await other.post('/products', { name: 'other', price: '1.00', qty: 1 })).status).toBe(201)
  })

  it('when anonymous reads come from one address, then the per-address limit holds across both replicas', async () => {
    const [a, b] = replicas.map((r) => client(r.url, { token: null }))
    // reads are counted in each replica and sent to Redis in batches: wait until A's are there
    for (let i = 0; i < 12; i++) expect((await a!.get('/products?limit=1')).status).toBe(200)
    await eventually(async () => (await readsCounted()) === 12, { what: "A's reads counted in Redis" })
    // B asks Redis on its first read of this address and counts on from what all replicas did
    const onB = []
    for (let i = 0; i < 12; i++) onB.push(await b!.get('/products?limit=1'))
    expect(onB.map((r) => r.status)).toEqual([...Array(8).fill(200), ...Array(4).fill(429)])
  })

  it('when Redis is unreachable, then requests are let through (and the log says so), never refused', async () => {
    const redis = await tcpProxy(iso.infra.redisUrl)
    const lonely = await spawnService('product', iso.env('product', { ...limits, REDIS_URL: redis.through(iso.infra.redisUrl), LOG_LEVEL: 'warn' }))
    try {
      await redis.cut()
      const api = client(lonely.url, { token: await mintToken({ sub: 'redis-down', scope: 'products:write' }) })
      const replies = []
      for (let i = 0; i < 14; i++) replies.push(await api.post('/products', { name: `r${i}`, price: '1.00', qty: 1 }))
      expect(statuses(replies)).toEqual(Array(14).fill(201))
      await eventually(() => lonely.output().includes('rate limits not applied'), { what: 'the log saying limits are off' })
    } finally {
      await lonely.stop()
      await redis.close()
    }
  })
})
