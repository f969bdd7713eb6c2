import { createClient } from 'redis'
import { eventually, type ServiceProcess } from '@shop/testkit'
import { run, type Outcome, type Scenario } from './scenarios.ts'

/**
 * What the near cache's fence adds to a write. Under a read lease a replica answers hits from
 * memory, so every write to a product waits (`cache.invalidate` → `near.fence()`) until each
 * replica holding a lease has dropped the key. Measured as sequential `PATCH /products/:id`, one
 * connection, a request at a time: first on a product process with the near cache off (no
 * fence: the baseline), then on the bench's product with it on while 1, 2 and 4 replicas hold a
 * lease, counted in Redis before each run.
 */
export const WRITE_FENCE = 'write fence'
export const FENCED_REPLICAS = [1, 2, 4] as const

export type FenceRun = {
  /** replicas holding a lease while it ran; 0 for the baseline (near cache off, no fence) */
  replicas: number
  outcome: Outcome
}
export type FenceAdded = { replicas: number; p50Ms: number; p99Ms: number }
export type WriteFence = {
  runs: FenceRun[]
  /** each fenced run minus the baseline, ms (to 0.01 ms) */
  added: FenceAdded[]
  /** a run not measured (the near cache off, a replica holding no lease) or not as named (a lease lost meanwhile), and why */
  notes: string[]
}

const round2 = (n: number) => Math.round(n * 100) / 100
const latencyOf = (o: Outcome) => o.fineMs ?? { p50: o.p50, p90: o.p90, p99: o.p99, max: o.max }

export const fenceRunName = (replicas: number) =>
  replicas ? `PATCH /products/:id, near cache on, ${replicas} replica${replicas > 1 ? 's' : ''} holding a lease` : 'PATCH /products/:id, near cache off (baseline)'

/** per fenced run: its p50 and p99 minus the baseline's */
export function fenceAdded(runs: FenceRun[]): FenceAdded[] {
  const base = runs.find((r) => r.replicas === 0)
  if (!base) return []
  const b = latencyOf(base.outcome)
  return runs
    .filter((r) => r.replicas > 0)
    .map((r) => ({ replicas: r.replicas, p50Ms: round2(latencyOf(r.outcome).p50 - b.p50), p99Ms: round2(latencyOf(r.outcome).p99 - b.p99) }))
}

/** one row per run: req/s, p50 and p99 to 0.01 ms, the added p50/p99 over the baseline, errors */
export function fenceRows(f: WriteFence): string[][] {
  if (!f.runs.length) return []
  const signed = (n: number) => `${n > 0 ? '+' : ''}${n.toFixed(2)}`
  return [
    ['writes', 'req/s', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'errors', 'non-2xx'],
    ...f.runs.map(({ replicas, outcome: o }) => {
      const a = f.added.find((x) => x.replicas === replicas)
      const l = latencyOf(o)
      return [o.scenario, String(o.rps), l.p50.toFixed(2), l.p99.toFixed(2), a ? signed(a.p50Ms) : '', a ? signed(a.p99Ms) : '', String(o.errors + o.timeouts), String(o.non2xx)]
    }),
  ]
}

/** The replicas whose lease is live now by Redis' clock: members of `<prefix>near:holders` scored after now. */
export async function leaseHolders(redisUrl: string, prefix: string) {
  const redis = createClient({ url: redisUrl })
  redis.on('error', () => {})
  await redis.connect()
  return {
    async live(): Promise<number> {
      const [s, us] = (await redis.sendCommand(['TIME'])) as [string, string]
      const now = Number(s) * 1000 + Math.floor(Number(us) / 1000)
      return Number(await redis.sendCommand(['ZCOUNT', `${prefix}near:holders`, `(${now}`, '+inf']))
    },
    close: () => redis.close().catch(() => {}),
  }
}

/**
 * `writer` is the bench's product (near cache on unless the bench's environment turns it off);
 * `spawnProduct` starts one more on the same database, Redis prefix and queues.
 */
export async function measureWriteFence({
  writer,
  spawnProduct,
  redisUrl,
  prefix,
  productId,
  staffToken,
  seconds,
  progress,
  say,
}: {
  writer: ServiceProcess
  spawnProduct: (extra: Record<string, string>) => Promise<ServiceProcess>
  redisUrl: string
  prefix: string
  productId: string
  staffToken: string
  seconds: number
  progress: boolean
  say: (msg: string) => void
}): Promise<WriteFence> {
  const patch = (url: string, replicas: number, duration: number): Scenario => ({
    name: fenceRunName(replicas),
    fine: true,
    options: {
      url: `${url}/products/${productId}`,
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${staffToken}` },
      // a valid change that bumps the version (and so invalidates the cached product) every time
      body: JSON.stringify({ qtyDelta: 1 }),
      connections: 1,
      duration,
    },
  })
  // a second of the same writes first, so that neither process is measured cold
  const measure = async (url: string, replicas: number) => {
    await run(patch(url, replicas, 1), false)
    say(`running ${fenceRunName(replicas)}`)
    return { replicas, outcome: await run(patch(url, replicas, seconds), progress) }
  }

  const runs: FenceRun[] = []
  const notes: string[] = []
  const holders = await leaseHolders(redisUrl, prefix)
  const extras: ServiceProcess[] = []
  try {
    say(`${WRITE_FENCE}: a product with the near cache off for the baseline`)
    const baseline = await spawnProduct({ NEAR_CACHE_MAX_ENTRIES: '0' })
    try {
      runs.push(await measure(baseline.url, 0))
    } finally {
      await baseline.stop()
    }
    if ((await holders.live()) === 0) {
      notes.push("not measured: the fenced writes, since the bench's product holds no read lease (NEAR_CACHE_MAX_ENTRIES=0 in this run?)")
      return { runs, added: fenceAdded(runs), notes }
    }
    for (const replicas of FENCED_REPLICAS) {
      while (extras.length < replicas - 1) extras.push(await spawnProduct({}))
      const live = await eventually(async () => (await holders.live()) === replicas && replicas, {
        timeout: 10_000,
        interval: 100,
        what: `${replicas} replicas holding a lease in ${prefix}near:holders`,
      }).catch((err) => String(err))
      if (typeof live === 'string') {
        notes.push(`not measured: ${fenceRunName(replicas)}: ${live}`)
        continue
      }
      runs.push(await measure(writer.url, replicas))
      const after = await holders.live()
      if (after !== replicas) notes.push(`${fenceRunName(replicas)}: ${after} held a lease once it ended (a lease lost meanwhile)`)
    }
  } finally {
    await Promise.all(extras.map((p) => p.stop()))
    await holders.close()
  }
  return { runs, added: fenceAdded(runs), notes }
}
