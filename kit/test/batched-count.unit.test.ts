import { describe, expect, it } from 'bun:test'
import { batchedCount } from '../security/rate-counts.ts'

/** A fake Redis counter: what `count` sends, and the totals it answers (others may add to them). */
function fakeRedis() {
  const totals = new Map<string, number>()
  const calls: [string, number][] = []
  return {
    calls,
    totals,
    up: true,
    async count(key: string, _window: number, by = 1) {
      calls.push([key, by])
      if (!this.up) return undefined
      totals.set(key, (totals.get(key) ?? 0) + by)
      return totals.get(key)!
    },
  }
}

/**
 * A fake Redis counter that holds every call until the test lets it answer: Redis slower than
 * any flush interval. Held calls are answered in the order they came, as one connection would.
 */
function heldRedis() {
  let total = 0
  let holding = true
  const held: (() => void)[] = []
  return {
    get total() {
      return total
    },
    async count(_key: string, _window: number, by = 1) {
      if (holding) await new Promise<void>((resolve) => held.push(resolve))
      total += by
      return total
    },
    /** answers what it holds, and from now on every call at once */
    answer() {
      holding = false
      for (const resolve of held.splice(0)) resolve()
    },
    /** answers only the calls it holds now */
    release() {
      for (const resolve of held.splice(0)) resolve()
    },
  }
}

describe('batchedCount', () => {
  it('when a key is counted, then the first count asks Redis and the rest go in one INCRBY, answering what all replicas counted', async () => {
    const redis = fakeRedis()
    const count = batchedCount(redis, 60_000) // flushed by hand below
    expect(await count('k', 60)).toBe(1)
    expect([await count('k', 60), await count('k', 60), await count('k', 60)]).toEqual([2, 3, 4])
    expect(redis.calls).toEqual([['k', 1]])
    redis.totals.set('k', redis.totals.get('k')! + 10) // another replica counted 10 meanwhile
    await count.flush()
    expect(redis.calls).toEqual([['k', 1], ['k', 3]])
    expect(await count('k', 60)).toBe(15)
  })

  it('when Redis is down, then a key never counted is undefined (let through) and a known one counts on here', async () => {
    const redis = fakeRedis()
    const count = batchedCount(redis, 60_000) // flushed by hand below
    expect(await count('known', 60)).toBe(1)
    redis.up = false
    expect(await count('new', 60)).toBeUndefined()
    expect([await count('known', 60), await count('known', 60)]).toEqual([2, 3])
    await count.flush()
    redis.up = true
    expect(await count('known', 60)).toBe(4) // the unsent counts are kept and go with the next flush
    await count.flush()
    expect(redis.totals.get('known')).toBe(4)
  })

  it('when flushes start while earlier ones still await a slow Redis, then every count reaches Redis once and no answer runs ahead of the true count', async () => {
    const redis = heldRedis()
    const count = batchedCount(redis, 60_000) // flushes started by hand below, as the timer starts one every flushMs
    let made = 0
    const aheadOfTruth: [number, number][] = []
    const countOne = async () => {
      const truth = ++made
      const answer = (await count('k', 60))!
      if (answer > truth) aheadOfTruth.push([truth, answer])
      return answer
    }
    const first = countOne()
    redis.release()
    expect(await first).toBe(1)

    const flushes: Promise<void>[] = []
    for (let interval = 0; interval < 4; interval++) {
      for (let i = 0; i < 5; i++) await countOne()
      flushes.push(count.flush()) // Redis has answered none of the earlier ones yet
    }
    redis.answer()
    await Promise.all(flushes)
    expect(redis.total).toBe(made)
    await count.flush() // nothing left to send
    expect(redis.total).toBe(made)
    expect(await countOne()).toBe(made) // one replica alone: the answer is exact again
    expect(aheadOfTruth).toEqual([])
  })
})
