import { mkdirSync, writeFileSync } from 'node:fs'
import type { Outcome } from './scenarios.ts'
import type { SagaSummary } from './saga.ts'
import { hitPercent } from './near-cache.ts'
import { PLACING_STEPS } from '@shop/order/placing-steps'

export type Report = {
  when: string
  auth: string
  observability: string
  machine: string
  outcomes: Outcome[]
  saga: Record<string, SagaSummary>
  ratios: Record<string, number>
  peakRssMb: Record<string, number>
}

const columns = ['scenario', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'non-2xx'] as const
const row = (o: Outcome) => [o.scenario, o.rps, o.p50, o.p90, o.p99, o.max, o.errors, o.non2xx].map(String)

const aligned = (rows: string[][]) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n')
}

export const table = (outcomes: Outcome[]): string => aligned([columns.map(String), ...outcomes.map(row)])

/** CPU µs per request by process, then the machine's user / kernel / idle / steal percentages */
function cpuRows(outcomes: Outcome[]): string[][] {
  const measured = outcomes.filter((o) => o.cpu)
  const processes = [...new Set(measured.flatMap((o) => Object.keys(o.cpu!.usPerRequest)))]
  const head = ['scenario', ...processes, 'user %', 'kernel %', 'idle %', 'steal %']
  return [
    head,
    ...measured.map((o) => {
      const { usPerRequest, machinePercent: m } = o.cpu!
      return [o.scenario, ...processes.map((p) => String(usPerRequest[p] ?? '')), ...[m.user, m.kernel, m.idle, m.steal].map(String)]
    }),
  ]
}

export const cpuTable = (outcomes: Outcome[]): string => aligned(cpuRows(outcomes))

/** per scenario and service: the near cache's hit ratio and how many reads went through it */
function nearCacheRows(outcomes: Outcome[]): string[][] {
  const measured = outcomes.filter((o) => Object.keys(o.nearCache ?? {}).length)
  const services = [...new Set(measured.flatMap((o) => Object.keys(o.nearCache!)))]
  const cell = (o: Outcome, s: string) => {
    const reads = o.nearCache![s]
    return reads ? `${hitPercent(reads).toFixed(1)}% of ${reads.hits + reads.misses}` : '-'
  }
  return [['scenario', ...services], ...measured.map((o) => [o.scenario, ...services.map((s) => cell(o, s))])]
}

export const nearCacheTable = (outcomes: Outcome[]): string => aligned(nearCacheRows(outcomes))

/** per POST /orders scenario and step: how many, mean, p50 and p99 in ms */
function placingRows(outcomes: Outcome[]): string[][] {
  const measured = outcomes.filter((o) => Object.keys(o.placing ?? {}).length)
  const rows = measured.flatMap((o) =>
    PLACING_STEPS.flatMap((step) => {
      const t = o.placing![step]
      return t ? [[o.scenario, step, String(t.n), t.meanMs.toFixed(1), t.p50Ms.toFixed(1), t.p99Ms.toFixed(1)]] : []
    }),
  )
  return [['scenario', 'step', 'n', 'mean', 'p50', 'p99'], ...rows]
}

export const placingTable = (outcomes: Outcome[]): string => aligned(placingRows(outcomes))

const markdownTable = (title: string, rows: string[][]) =>
  rows.length > 1
    ? [title, '', `| ${rows[0]!.join(' | ')} |`, `| ${rows[0]!.map((_, i) => (i ? '---:' : '---')).join(' | ')} |`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`), '']
    : []

export function markdown(r: Report): string {
  const lines = [
    `Run ${r.when} on ${r.machine}.`,
    '',
    `| ${columns.join(' | ')} |`,
    `| ${columns.map((_, i) => (i ? '---:' : '---')).join(' | ')} |`,
    ...r.outcomes.map((o) => `| ${row(o).join(' | ')} |`),
    '',
    '| saga after | accepted | confirmed | rejected | pending | drained in | lag p50 | lag p99 | invariant |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...Object.entries(r.saga).map(
      ([name, s]) =>
        `| ${name} | ${s.accepted} | ${s.confirmed} | ${s.rejected} | ${s.pending} | ${s.drainSeconds.toFixed(2)} s | ${s.lagP50Ms} ms | ${s.lagP99Ms} ms | ${s.invariantHolds ? 'holds' : 'BROKEN'} |`,
    ),
    '',
    ...markdownTable('Near cache (reads answered from process memory, of all its reads):', nearCacheRows(r.outcomes)),
    ...markdownTable("Where POST /orders spent its time, by step (ms; quantiles from order's histogram buckets):", placingRows(r.outcomes)),
    ...markdownTable("CPU per request (µs, by process) and the machine's time (%):", cpuRows(r.outcomes)),
    ...Object.entries(r.ratios).map(([k, v]) => `- ${k}: ${v.toFixed(3)}`),
    ...Object.entries(r.peakRssMb).map(([k, v]) => `- peak RSS ${k}: ${v} MB`),
  ]
  return lines.join('\n') + '\n'
}

export function save(r: Report) {
  const dir = new URL('./results/', import.meta.url)
  mkdirSync(dir, { recursive: true })
  writeFileSync(new URL('latest.json', dir), JSON.stringify(r, null, 2))
  writeFileSync(new URL('latest.md', dir), markdown(r))
  return new URL('latest.md', dir).pathname
}
