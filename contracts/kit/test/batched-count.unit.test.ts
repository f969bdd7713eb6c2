import { describe, expect, it } from 'bun:test'
import { batchedCount } from '../counters.ts'

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
})
