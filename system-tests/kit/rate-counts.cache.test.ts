import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createClient } from 'redis'
import { batchedCount, exactCounts, type Counts } from '@shop/kit/security'
import { connectRedis, type Redis } from '@shop/kit/cache'
import { createLog } from '@shop/kit/observability'
import { startInfra } from '@shop/testkit'

let cache: Counts
let shared: Redis
const inspect = (url: string) => createClient({ url }).connect()
let redis: Awaited<ReturnType<typeof inspect>>
const prefix = `counts-${crypto.randomUUID()}:`
beforeAll(async () => {
  const { redisUrl } = await startInfra()
  shared = connectRedis(redisUrl, createLog('test', 'error'))
  cache = exactCounts(shared, prefix)
  redis = await inspect(redisUrl)
})
afterAll(async () => {
  for (const key of await redis.keys(`${prefix}*`)) await redis.del(key)
  await shared.close()
  await redis.close()
})

const incrbyCalls = async () => Number(/cmdstat_incrby:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0)

describe('rate-limit counters', () => {
  it('when 200 counts of two keys arrive at once, then each gets its own exact value, Redis holds the totals, in far fewer round trips', async () => {
    await cache.count('warm', 60) // connected
    const before = await incrbyCalls()
    const keys = Array.from({ length: 200 }, (_, i) => (i % 4 === 0 ? 'b' : 'a'))
    const values = await Promise.all(keys.map((k) => cache.count(k, 60)))
    const of = (k: string) => values.filter((_, i) => keys[i] === k).sort((x, y) => x! - y!)
    expect(of('a')).toEqual(Array.from({ length: 150 }, (_, i) => i + 1))
    expect(of('b')).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(await redis.get(`${prefix}a`)).toBe('150')
    expect(await redis.get(`${prefix}b`)).toBe('50')
    expect(await redis.ttl(`${prefix}a`)).toBeGreaterThan(0)
    expect((await incrbyCalls()) - before).toBeLessThan(20)
  })

  it('when counts of one key go by more than one, then each caller sees the total up to and including its own', async () => {
    const values = await Promise.all([cache.count('c', 60, 5), cache.count('c', 60, 1), cache.count('c', 60, 3)])
    expect(values).toEqual([5, 6, 9]) // in the order they were asked, whichever went together
    expect(Number(await redis.get(`${prefix}c`))).toBe(9)
  })

  it('when Redis stalls for many flush intervals of batched counts, then it ends up holding each count once and no answer runs ahead of the true count', async () => {
    const count = batchedCount(cache, 20)
    let made = 0
    const aheadOfTruth: [number, number][] = []
    const countOne = async () => {
      const truth = ++made
      const answer = (await count('stalled', 60))!
      if (answer > truth) aheadOfTruth.push([truth, answer])
      return answer
    }
    expect(await countOne()).toBe(1) // the first count is exact, so it waits for Redis: before the stall

    // The real fault: Redis holds every write (reads still pass) for 1 s at most, so a test
    // that fails here cannot stall the other files sharing this Redis for long.
    await redis.sendCommand(['CLIENT', 'PAUSE', '1000', 'WRITE'])
    let heldDuringStall: string | null
    try {
      const stallEnds = Date.now() + 300 // 15 flush intervals
      // each round trip of a read lets the flush timer run between counts
      while (Date.now() < stallEnds) {
        await countOne()
        await redis.get(`${prefix}stalled`)
      }
      heldDuringStall = await redis.get(`${prefix}stalled`)
    } finally {
      await redis.sendCommand(['CLIENT', 'UNPAUSE'])
    }
    expect(heldDuringStall).toBe('1') // the flushes really waited for Redis

    await count.flush() // returns once what is on its way and all counted since have landed
    expect(Number(await redis.get(`${prefix}stalled`))).toBe(made)
    expect(await countOne()).toBe(made) // this replica alone: exact again
    expect(aheadOfTruth).toEqual([])
  })
})
