import { describe, expect, it } from 'bun:test'
import { createHistory, describeStale, earlyReads, staleReads, tally } from './history.ts'

/** p: created (v1) at 0-1 ms, then two writes on r0 at 10-12 ms (v2) and 20-25 ms (v3). */
function written() {
  const h = createHistory()
  h.write({ key: 'p', replica: 'r0', start: 0, end: 1, version: 1 })
  h.write({ key: 'p', replica: 'r0', start: 10, end: 12, version: 2 })
  h.write({ key: 'p', replica: 'r0', start: 20, end: 25, version: 3 })
  return h
}

describe('the read-after-write check', () => {
  it('when every read sees the last write that ended before it began, or a later one, then it finds nothing', () => {
    const h = written()
    h.read({ key: 'p', replica: 'r1', start: 2, end: 3, version: 1, hit: true })
    h.read({ key: 'p', replica: 'r1', start: 11, end: 13, version: 1, hit: true }) // overlaps v2's write: either is fine
    h.read({ key: 'p', replica: 'r2', start: 11, end: 13, version: 2, hit: false })
    h.read({ key: 'p', replica: 'r1', start: 12.5, end: 14, version: 2, hit: true })
    h.read({ key: 'p', replica: 'r2', start: 21, end: 30, version: 3, hit: false }) // began during v3's write, saw it
    h.read({ key: 'p', replica: 'r1', start: 26, end: 27, version: undefined, hit: false }) // failed: no version to judge
    expect(staleReads(h.ops)).toEqual([])
    expect(earlyReads(h.ops)).toEqual([])
  })

  it('when a read begins after a write ended and sees an older version, then it is reported with the write it missed', () => {
    const h = written()
    h.read({ key: 'p', replica: 'r1', start: 13, end: 14, version: 2, hit: true })
    h.read({ key: 'p', replica: 'r2', start: 25.5, end: 26, version: 2, hit: true }) // v3 ended at 25: stale
    const stale = staleReads(h.ops)
    expect(stale.map((s) => ({ replica: s.read.replica, saw: s.read.version, expected: s.expected, writtenOn: s.after.replica }))).toEqual([
      { replica: 'r2', saw: 2, expected: 3, writtenOn: 'r0' },
    ])
    expect(describeStale(stale)).toBe('p on r2: read [25.5, 26.0] ms saw version 2 (HIT), expected >= 3: written on r0 [20.0, 25.0] ms')
  })

  it('when writes of one key end out of version order, then a read is held to the highest version acknowledged before it', () => {
    const h = createHistory()
    h.write({ key: 'p', replica: 'r0', start: 0, end: 10, version: 5 })
    h.write({ key: 'p', replica: 'r1', start: 1, end: 11, version: 4 }) // acknowledged later, older version
    h.read({ key: 'p', replica: 'r2', start: 12, end: 13, version: 4, hit: true })
    expect(staleReads(h.ops).map((s) => s.expected)).toEqual([5])
  })

  it('when only other keys were written, or a write was not acknowledged, then it holds no read to them', () => {
    const h = createHistory()
    h.write({ key: 'q', replica: 'r0', start: 0, end: 1, version: 9 })
    h.write({ key: 'p', replica: 'r0', start: 0, end: 1, version: undefined })
    h.read({ key: 'p', replica: 'r1', start: 2, end: 3, version: 1, hit: true })
    expect(staleReads(h.ops)).toEqual([])
  })

  it('when a read sees a version whose write began after the read ended, then it is reported as impossible', () => {
    const h = written()
    h.read({ key: 'p', replica: 'r1', start: 5, end: 9, version: 2, hit: false })
    expect(earlyReads(h.ops).map((e) => [e.read.version, e.write.start])).toEqual([[2, 10]])
  })

  it('when a run is tallied, then failed reads and writes are counted apart, with the hits and the slowest of each', () => {
    const h = written()
    h.read({ key: 'p', replica: 'r1', start: 2, end: 3, version: 1, hit: true })
    h.read({ key: 'p', replica: 'r1', start: 4, end: 9, version: undefined, hit: false })
    expect(tally(h.ops)).toEqual({ reads: 2, hits: 1, failedReads: 1, writes: 3, failedWrites: 0, maxWriteMs: 5, maxReadMs: 5 })
  })
})
