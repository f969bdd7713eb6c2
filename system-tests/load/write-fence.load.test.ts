import { describe, expect, it } from 'bun:test'
import { fenceTable, markdown, type Report } from './report.ts'
import type { Outcome } from './scenarios.ts'
import { fenceAdded, fenceRunName, type FenceRun, type WriteFence } from './write-fence.ts'

const write = (replicas: number, fineMs: { p50: number; p99: number }, rps: number): FenceRun => {
  const outcome: Outcome = {
    scenario: fenceRunName(replicas),
    rps,
    p50: Math.floor(fineMs.p50),
    p90: Math.floor(fineMs.p99),
    p99: Math.floor(fineMs.p99),
    max: 30,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    total: rps * 5,
    seconds: 5,
    fineMs: { ...fineMs, p90: fineMs.p99, max: 30 },
  }
  return { replicas, outcome }
}
const runs = [write(0, { p50: 1.2, p99: 3.5 }, 700), write(1, { p50: 1.65, p99: 4.1 }, 520), write(2, { p50: 1.9, p99: 5.25 }, 450), write(4, { p50: 2.4, p99: 8 }, 360)]

describe("the bench's table of what the near cache's fence adds to a write", () => {
  it('when the baseline and fenced runs ran, then each fenced run adds its fine p50 and p99 minus the baseline’s', () => {
    expect(fenceAdded(runs)).toEqual([
      { replicas: 1, p50Ms: 0.45, p99Ms: 0.6 },
      { replicas: 2, p50Ms: 0.7, p99Ms: 1.75 },
      { replicas: 4, p50Ms: 1.2, p99Ms: 4.5 },
    ])
  })

  it('when there is no baseline, then nothing is added', () => {
    expect(fenceAdded(runs.slice(1))).toEqual([])
  })

  it('when it is printed, then a row per run names the replicas holding a lease, the baseline with no added cells, and the notes follow', () => {
    const f: WriteFence = { runs, added: fenceAdded(runs), notes: ['not measured: something'] }
    const rows = fenceTable(f).split('\n')
    expect(rows).toHaveLength(6)
    expect(rows[0]).toMatch(/^writes\s+req\/s\s+p50 ms\s+p99 ms\s+added p50 ms\s+added p99 ms\s+errors\s+non-2xx$/)
    expect(rows[1]).toMatch(/^PATCH \/products\/:id, near cache off \(baseline\)\s+700\s+1\.20\s+3\.50\s+0\s+0$/)
    expect(rows[2]).toMatch(/^PATCH \/products\/:id, near cache on, 1 replica holding a lease\s+520\s+1\.65\s+4\.10\s+\+0\.45\s+\+0\.60\s+0\s+0$/)
    expect(rows[4]).toContain('4 replicas holding a lease')
    expect(rows[5]).toBe('not measured: something')
  })

  it('when the results are written, then latest.md and latest.json have the runs and what each added', () => {
    const f: WriteFence = { runs, added: fenceAdded(runs), notes: [] }
    const report: Report = { when: 'now', auth: 'on', observability: '', machine: '2 cores', outcomes: [], saga: {}, ratios: {}, bff: [], writeFence: f, peakRssMb: {} }
    expect(markdown(report)).toContain('| PATCH /products/:id, near cache on, 2 replicas holding a lease | 450 | 1.90 | 5.25 | +0.70 | +1.75 | 0 | 0 |')
    expect(JSON.parse(JSON.stringify(report)).writeFence.added[2]).toEqual({ replicas: 4, p50Ms: 1.2, p99Ms: 4.5 })
  })
})
