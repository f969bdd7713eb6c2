/**
 * A history of reads and writes of versioned keys, as clients saw them, and the check that every
 * read is fresh: a read that began after a write had ended returns that write's version or a later
 * one. Times are the client's (`performance.now()` in one process): a read recorded as beginning
 * after a write ended really was sent after that write's answer came back, whatever the servers'
 * clocks say. Pure: no server, no clock.
 */

export type Write = {
  kind: 'write'
  key: string
  replica: string
  start: number
  end: number
  /** the version the answer carried; undefined when the write was not acknowledged (it may or may not have landed) */
  version?: number
}

export type Read = {
  kind: 'read'
  key: string
  replica: string
  start: number
  end: number
  /** the version seen; undefined when the read failed */
  version?: number
  /** `X-Cache: HIT`: answered from the cache (Redis or process memory), not from the database */
  hit: boolean
}

export type Op = Write | Read

/** A read older than a write that had ended before it began. */
export type Stale = { read: Read; expected: number; after: Write }
/** A read of a version whose write had not begun when the read ended: impossible, so the history itself is wrong. */
export type Early = { read: Read; write: Write }

/** Operations as they come; `ops` in the order they were recorded (ended). */
export function createHistory() {
  const ops: Op[] = []
  return {
    ops,
    write: (w: Omit<Write, 'kind'>) => void ops.push({ kind: 'write', ...w }),
    read: (r: Omit<Read, 'kind'>) => void ops.push({ kind: 'read', ...r }),
  }
}
export type History = ReturnType<typeof createHistory>

/** The acknowledged writes of each key, by end time, with the highest version acknowledged by then. */
function writesByKey(ops: Op[]) {
  const byKey = new Map<string, { writes: Write[]; highest: Write[] }>()
  const acked = ops.filter((o): o is Write & { version: number } => o.kind === 'write' && o.version !== undefined)
  for (const w of acked.sort((a, b) => a.end - b.end)) {
    const k = byKey.get(w.key) ?? { writes: [], highest: [] }
    byKey.set(w.key, k)
    const before = k.highest.at(-1)
    k.writes.push(w)
    k.highest.push(before && before.version! >= w.version ? before : w)
  }
  return byKey
}

/** The last index of `writes` (sorted by end) that ended strictly before `t`, or -1. */
function lastEndedBefore(writes: Write[], t: number) {
  let lo = 0
  let hi = writes.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (writes[mid]!.end < t) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found
}

/** Every read that returned an older version than a write acknowledged before the read began. */
export function staleReads(ops: Op[]): Stale[] {
  const byKey = writesByKey(ops)
  const stale: Stale[] = []
  for (const r of ops) {
    if (r.kind !== 'read' || r.version === undefined) continue
    const k = byKey.get(r.key)
    const i = k ? lastEndedBefore(k.writes, r.start) : -1
    if (i < 0) continue
    const after = k!.highest[i]!
    if (r.version < after.version!) stale.push({ read: r, expected: after.version!, after })
  }
  return stale
}

/** Every read of a version whose (acknowledged) write began only after the read had ended. */
export function earlyReads(ops: Op[]): Early[] {
  const made = new Map<string, Write>()
  for (const w of ops) if (w.kind === 'write' && w.version !== undefined) made.set(`${w.key}@${w.version}`, w)
  const early: Early[] = []
  for (const r of ops) {
    if (r.kind !== 'read' || r.version === undefined) continue
    const w = made.get(`${r.key}@${r.version}`)
    if (w && w.start > r.end) early.push({ read: r, write: w })
  }
  return early
}

/** What a run did, in numbers. */
export function tally(ops: Op[]) {
  const reads = ops.filter((o): o is Read => o.kind === 'read')
  const writes = ops.filter((o): o is Write => o.kind === 'write')
  const latency = (o: Op) => o.end - o.start
  return {
    reads: reads.length,
    hits: reads.filter((r) => r.hit).length,
    failedReads: reads.filter((r) => r.version === undefined).length,
    writes: writes.length,
    failedWrites: writes.filter((w) => w.version === undefined).length,
    maxWriteMs: Math.round(Math.max(0, ...writes.map(latency))),
    maxReadMs: Math.round(Math.max(0, ...reads.map(latency))),
  }
}

const ms = (t: number) => t.toFixed(1)

/** One line per stale read, for a failure message: which read, where, what it should have seen. */
export const describeStale = (stale: Stale[], limit = 10) =>
  stale
    .slice(0, limit)
    .map(
      ({ read: r, expected, after: w }) =>
        `${r.key} on ${r.replica}: read [${ms(r.start)}, ${ms(r.end)}] ms saw version ${r.version} (${r.hit ? 'HIT' : 'MISS'}), ` +
        `expected >= ${expected}: written on ${w.replica} [${ms(w.start)}, ${ms(w.end)}] ms`,
    )
    .concat(stale.length > limit ? [`… and ${stale.length - limit} more`] : [])
    .join('\n')
