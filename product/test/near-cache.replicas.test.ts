import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { bootInProcess, client, eventually, isolate, tcpProxy, type Client, type Isolated, type Proxy } from '@shop/testkit'
import { loadConfig } from '../src/config.ts'
import { startProduct } from '../src/start.ts'
import { sample } from '@shop/testkit/promql'

// two replicas of product on the same PostgreSQL and Redis, each with its own near cache; a
// third whose Redis goes through a TCP hop this file can cut
let iso: Isolated
let a: Client
let b: Client
let c: Client
let redis: Proxy
const stops: (() => Promise<void>)[] = []
const boot = async (extra: Record<string, string> = {}) => {
  const running = await bootInProcess(() => startProduct(loadConfig(iso.env('product', extra))))
  stops.push(running.stop)
  return client(running.url)
}
beforeAll(async () => {
  iso = await isolate('near')
  redis = await tcpProxy(iso.infra.redisUrl)
  ;[a, b, c] = await Promise.all([boot(), boot(), boot({ REDIS_URL: redis.through(iso.infra.redisUrl) })])
})
afterAll(async () => {
  await redis.restore().catch(() => {})
  for (const stop of stops) await stop()
  await redis.close()
  await iso.cleanup()
})

const nearHits = async (api: Client) => {
  const text = await (await fetch(`${api.base}/metrics`)).text()
  return sample(text, 'shop_near_cache_requests_total', { result: 'hit' })
}

describe('the near cache', () => {
  it('when one replica writes, then a read on the other right after sees the new value, every time', async () => {
    const p = (await a.post('/products', { name: 'near', price: '1.00', qty: 1 })).body
    await b.get(`/products/${p.id}`) // B holds it in memory now
    const hitsBefore = await nearHits(b)
    const cached: (string | null)[] = []
    for (let i = 1; i <= 40; i++) {
      const price = `${i}.00`
      expect((await a.patch(`/products/${p.id}`, { price })).status).toBe(200)
      // the first read loads and caches the new value; the next ones come from memory, still new
      for (let read = 0; read < 4; read++) {
        const reply = await b.get(`/products/${p.id}`)
        expect(reply.body.price).toBe(price)
        if (read) cached.push(reply.headers.get('x-cache'))
      }
    }
    // the entry is stored in Redis in the background: a read right after may still miss, not all of them
    expect(cached.filter((c) => c === 'HIT').length).toBeGreaterThanOrEqual(40)
    expect(await nearHits(b)).toBeGreaterThanOrEqual(hitsBefore + 40)
  })

  it('when Redis is cut away, then reads go to PostgreSQL and see every write, and caching resumes when it is back', async () => {
    const p = (await c.post('/products', { name: 'near-cut', price: '1.00', qty: 1 })).body
    // the first read stores the entry in Redis without waiting for it: a HIT follows once it is there
    await eventually(async () => (await c.get(`/products/${p.id}`)).headers.get('x-cache') === 'HIT', { what: 'a cache HIT before the cut' })
    await redis.cut()
    try {
      for (const price of ['2.00', '3.00']) {
        expect((await c.patch(`/products/${p.id}`, { price })).status).toBe(200)
        const read = await c.get(`/products/${p.id}`)
        expect({ price: read.body.price, cache: read.headers.get('x-cache') }).toEqual({ price, cache: 'MISS' })
      }
    } finally {
      await redis.restore()
    }
    // the invalidation missed during the outage is sent once Redis is back: never the old 1.00
    await eventually(async () => (await c.get(`/products/${p.id}`)).headers.get('x-cache') === 'HIT', {
      timeout: 15_000,
      what: 'caching again after Redis came back',
    })
    expect((await c.get(`/products/${p.id}`)).body.price).toBe('3.00')
    expect((await a.get(`/products/${p.id}`)).body.price).toBe('3.00')
  }, 30_000)
})
