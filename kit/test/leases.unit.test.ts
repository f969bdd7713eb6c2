import { describe, expect, it } from 'bun:test'
import { holdersOf, usableUntil, waitBound, writerOf, type LeaseTiming } from '../cache/leases.ts'

// The timing rules of the near cache's read leases: a holder stops using memory before Redis can
// have let its lease go, and a writer waits until then at the latest, whichever clock runs faster.
const timing: LeaseTiming = { leaseMs: 2000, drift: 0.01, marginMs: 25 }

describe('read lease timing', () => {
  it('when a renewal was sent at t, then memory answers until t + lease, less the drift and the margin', () => {
    expect(usableUntil(10_000, timing)).toBe(10_000 + 2000 * 0.99 - 25)
  })

  it("when the holder's clock runs fast by the drift allowed, then it still stops before Redis lets the lease go", () => {
    // Redis set the key when the renewal arrived, at sentAt or later; the holder's clock runs (1 + drift) as fast
    const sentAt = 0
    const holderStopsAtRealMs = (usableUntil(sentAt, timing) - sentAt) / (1 + timing.drift)
    expect(holderStopsAtRealMs).toBeLessThan(timing.leaseMs)
  })

  it("when a writer's clock runs slow by the drift allowed, then its wait still outlasts the lease Redis had left", () => {
    const ttl = 1500
    const waitedRealMs = waitBound(ttl, timing) * (1 - timing.drift)
    expect(waitedRealMs).toBeGreaterThan(ttl)
    expect(waitBound(ttl, timing)).toBeLessThanOrEqual(Math.ceil(timing.leaseMs * (1 + timing.drift) + timing.marginMs))
  })

  it('when the lease had nothing left, then the writer waits only the margin', () => {
    expect(waitBound(-2, timing)).toBe(25)
    expect(waitBound(0, timing)).toBe(25)
  })
})

describe('fence replies and tokens', () => {
  it("when FENCE answers [id, ttl, …], then each holder comes with its lease's time left", () => {
    expect(holdersOf(['a', 1500, 'b', '200'])).toEqual([
      { id: 'a', ttlMs: 1500 },
      { id: 'b', ttlMs: 200 },
    ])
    expect(holdersOf([])).toEqual([])
    expect(holdersOf(null)).toEqual([])
  })

  it('when a token is read, then it names the writer that waits for its acknowledgement', () => {
    expect(writerOf('3f1c-uuid-like:42')).toBe('3f1c-uuid-like')
    expect(writerOf('a:b:7')).toBe('a:b')
  })
})
