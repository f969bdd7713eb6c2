import { describe, expect, it } from 'bun:test'
import { bffAdded, bffGoalLines, bffTable, hitGoalLine, hitOverHealth, markdown, type Report } from './report.ts'
import type { Outcome } from './scenarios.ts'

const machine = { user: 50, kernel: 30, idle: 20, steal: 0 }
const outcome = (scenario: string, rps: number, fineMs: { p50: number; p99: number }, usPerRequest: Record<string, number>): Outcome => ({
  scenario,
  rps,
  p50: Math.floor(fineMs.p50),
  p90: Math.floor(fineMs.p99),
  p99: Math.floor(fineMs.p99),
  max: 20,
  errors: 0,
  timeouts: 0,
  non2xx: 0,
  total: rps * 8,
  seconds: 8,
  fineMs: { ...fineMs, p90: fineMs.p99, max: 20 },
  cpu: { usPerRequest, machinePercent: machine },
})
const direct = outcome('GET /products/:id cache hit', 40000, { p50: 1.01, p99: 4.54 }, { product: 22, order: 0, bff: 0, postgres: 1, redis: 2, 'load generator': 16 })
const viaBff = outcome('GET /products/:id via bff', 15000, { p50: 2.8, p99: 9.05 }, { product: 30, order: 0, bff: 54, postgres: 0, redis: 3, 'load generator': 19 })
const oneDirect = outcome('GET /products/:id cache hit, 1 connection', 5800, { p50: 0.15, p99: 0.65 }, { product: 94, order: 4, bff: 3, redis: 24, 'load generator': 39 })
const oneViaBff = outcome('GET /products/:id via bff, 1 connection', 3100, { p50: 0.27, p99: 1.77 }, { product: 103, order: 3, bff: 147, redis: 19, 'load generator': 45 })

describe("the bench's table of what the bff adds", () => {
  it('when both reads of a pair ran, then the added latency is via bff minus direct, from the fine percentiles', () => {
    const [fifty, one] = bffAdded([direct, viaBff, oneDirect, oneViaBff])
    expect(fifty!.load).toBe('with 50 connections')
    expect(fifty!.p50Ms).toBe(1.79)
    expect(fifty!.p99Ms).toBe(4.51)
    expect(fifty!.rpsRatio).toBeCloseTo(0.375, 3)
    expect(one!.p50Ms).toBe(0.12)
    expect(one!.p99Ms).toBe(1.12)
  })

  it("when CPU was measured, then the difference is by the bench's own processes and their sum, the shared servers left to the CPU table", () => {
    const [fifty] = bffAdded([direct, viaBff])
    expect(fifty!.cpuUsPerRequest).toEqual({ product: 8, order: 0, bff: 54, 'load generator': 3, sum: 65 })
  })

  it('when only one read of a pair ran, then there is no such pair, and no table when there is none', () => {
    expect(bffAdded([direct, oneDirect, oneViaBff]).map((a) => a.load)).toEqual(['with 1 connection'])
    expect(bffAdded([direct])).toEqual([])
    expect(bffTable([direct])).toBe('')
  })

  it('when it is printed, then each pair has its two reads and an added row, and the goal stands beside the 1-connection p50 as a measure', () => {
    const outcomes = [direct, viaBff, oneDirect, oneViaBff]
    const rows = bffTable(outcomes).split('\n')
    expect(rows).toHaveLength(7)
    expect(rows[0]).toMatch(/^scenario\s+req\/s\s+p50 ms\s+p99 ms\s+product µs\s+order µs\s+bff µs\s+load generator µs\s+sum µs$/)
    expect(rows[3]).toMatch(/^added by the bff, with 50 connections\s+-62%\s+\+1\.79\s+\+4\.51\s+\+8\s+0\s+\+54\s+\+3\s+\+65$/)
    const lines = bffGoalLines(bffAdded(outcomes))
    expect(lines[0]).not.toContain('goal')
    expect(lines[1]).toContain('p50 0.12 ms')
    expect(lines[1]).toContain('at most 1 ms at p50: met')
    const slow = bffGoalLines(bffAdded([oneDirect, { ...oneViaBff, fineMs: { p50: 1.4, p90: 3, p99: 3, max: 20 } }]))
    expect(slow[0]).toContain('not met')
  })

  it('when the results are written, then latest.md has the table and the lines', () => {
    const outcomes = [direct, viaBff, oneDirect, oneViaBff]
    const report: Report = { when: 'now', auth: 'on', observability: '', machine: '2 cores', outcomes, saga: {}, ratios: {}, bff: bffAdded(outcomes), peakRssMb: {} }
    const md = markdown(report)
    expect(md).toContain('| added by the bff, with 1 connection | -47% | +0.12 | +1.12 |')
    expect(md).toContain('- added by the bff with 1 connection: p50 0.12 ms')
  })
})

describe("the bench's line of the cache hit against /health", () => {
  const health = outcome('GET /health (product)', 30000, { p50: 1, p99: 7 }, {})

  it('when both ran, then the hit’s req/s is a percentage of /health’s, printed beside the goal as met or not', () => {
    const h = hitOverHealth([health, direct, viaBff])!
    expect(h).toEqual({ hitRps: 40000, healthRps: 30000, percent: 133.3, goalPercent: 85 })
    expect(hitGoalLine(h)).toBe("cache hit at 133.3% of /health's req/s (40000 over 30000); the goal is at least 85%: met in this run")
    const slow = hitOverHealth([health, { ...direct, rps: 16500 }])!
    expect(hitGoalLine(slow)).toContain('at 55.0%')
    expect(hitGoalLine(slow)).toContain('not met in this run')
  })

  it('when only one ran, or only the 1-connection hit, then there is no line', () => {
    expect(hitOverHealth([direct])).toBeUndefined()
    expect(hitOverHealth([health, oneDirect])).toBeUndefined()
  })

  it('when the results are written, then latest.md has the line', () => {
    const outcomes = [health, direct]
    const report: Report = { when: 'now', auth: 'on', observability: '', machine: '2 cores', outcomes, saga: {}, ratios: {}, bff: [], hitOverHealth: hitOverHealth(outcomes), peakRssMb: {} }
    expect(markdown(report)).toContain("- cache hit at 133.3% of /health's req/s (40000 over 30000); the goal is at least 85%: met in this run")
  })
})
