import { readdirSync, readFileSync } from 'node:fs'

/**
 * Where a scenario's CPU went, per request: each service, the servers it talks to (found by
 * process name, so local servers and testcontainers' alike, which share this kernel), the load
 * generator (this process), and the machine's split between user, kernel and idle time. Read
 * from /proc, so Linux only; elsewhere it reports nothing. A server process that exits during a
 * scenario (a PostgreSQL backend, say) takes its CPU time with it: the numbers are a floor.
 */
const TICK_MS = 10 // USER_HZ is 100 on every Linux the services run on

const servers: Record<string, string[]> = { postgres: ['postgres'], redis: ['redis-server'], rabbitmq: ['beam.smp', 'erl_child_setup', 'inet_gethost'] }

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined // the process is gone
  }
}

/** utime + stime of one process (all its threads), in ms */
function cpuMsOf(pid: number): number {
  const stat = read(`/proc/${pid}/stat`)
  if (!stat) return 0
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

function pidsNamed(names: string[]): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const comm = read(`/proc/${entry}/comm`)?.trim()
    if (comm && names.includes(comm)) pids.push(Number(entry))
  }
  return pids
}

/** the machine's jiffies: user (with nice), kernel (system, irq, softirq), idle (with iowait), steal */
function machine() {
  const [, user, nice, system, idle, iowait, irq, softirq, steal] = (read('/proc/stat') ?? '').split('\n')[0]!.trim().split(/\s+/).map(Number)
  return { user: user! + nice!, kernel: system! + irq! + softirq!, idle: idle! + iowait!, steal: steal ?? 0 }
}

type Snapshot = { at: Map<string, Map<number, number>>; machine: ReturnType<typeof machine> }
export type CpuShare = { usPerRequest: Record<string, number>; machinePercent: { user: number; kernel: number; idle: number; steal: number } }

export function cpuMeter(services: Record<string, number>) {
  const groups = (): Record<string, number[]> => ({
    ...Object.fromEntries(Object.entries(services).map(([name, pid]) => [name, [pid]])),
    ...Object.fromEntries(Object.entries(servers).map(([name, comms]) => [name, pidsNamed(comms)])),
    'load generator': [process.pid],
  })
  const snapshot = (): Snapshot => ({
    at: new Map(Object.entries(groups()).map(([name, pids]) => [name, new Map(pids.map((pid) => [pid, cpuMsOf(pid)]))])),
    machine: machine(),
  })
  return {
    supported: process.platform === 'linux' && read('/proc/stat') !== undefined,
    snapshot,
    /** CPU µs per request of each process group between two snapshots, and the machine's split */
    since(before: Snapshot, requests: number): CpuShare {
      const after = snapshot()
      const usPerRequest: Record<string, number> = {}
      for (const [name, pids] of after.at) {
        let ms = 0
        for (const [pid, now] of pids) ms += now - (before.at.get(name)?.get(pid) ?? 0)
        usPerRequest[name] = requests ? Math.round((ms * 1000) / requests) : 0
      }
      const d = {
        user: after.machine.user - before.machine.user,
        kernel: after.machine.kernel - before.machine.kernel,
        idle: after.machine.idle - before.machine.idle,
        steal: after.machine.steal - before.machine.steal,
      }
      const all = d.user + d.kernel + d.idle + d.steal || 1
      const pct = (n: number) => Math.round((100 * n) / all)
      return { usPerRequest, machinePercent: { user: pct(d.user), kernel: pct(d.kernel), idle: pct(d.idle), steal: pct(d.steal) } }
    },
  }
}
