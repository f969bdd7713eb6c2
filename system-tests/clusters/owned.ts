/**
 * What a cluster owns. It has one directory and a few ports, and every process it starts works
 * inside that directory (RabbitMQ's erl_child_setup, PostgreSQL's backends and Redis keep or chdir
 * to it), so "the processes of this cluster" is "every process whose cwd is under its directory,
 * or that listens on one of its ports". That is how a kill -9 takes a whole node down, how a start
 * clears what an earlier run left behind, and how stopAll proves nothing remains.
 */
import { readdirSync, readlinkSync, readFileSync, existsSync } from 'node:fs'
import { eventually } from '@shop/testkit'

/** Pids of the processes working under `dir` or listening on one of `ports` (127.0.0.1 or any address). */
export function ownedPids(dir: string, ports: number[]): number[] {
  const listening = listeningInodes(ports)
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    if (isUnder(cwdOf(pid), dir) || (listening.size && holdsSocket(pid, listening))) pids.push(pid)
  }
  return pids
}

/** SIGKILLs what ownedPids finds and waits until none is left; a start calls it to clear an earlier run. */
export async function killOwned(dir: string, ports: number[], timeout = 10_000): Promise<void> {
  await eventually(
    () => {
      const pids = ownedPids(dir, ports)
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // exited meanwhile
        }
      }
      return pids.length === 0
    },
    { timeout, interval: 50, what: `no process left in ${dir} or on ports ${ports.join(',')}` },
  )
}

const isUnder = (path: string | undefined, dir: string) =>
  path !== undefined && (path === dir || path.startsWith(`${dir}/`) || path.startsWith(`${dir} (deleted)`))

function cwdOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`)
  } catch {
    return undefined // gone, or a zombie waiting for its parent
  }
}

function listeningInodes(ports: number[]): Set<string> {
  const inodes = new Set<string>()
  if (!ports.length) return inodes
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 10 || cols[3] !== '0A') continue // 0A: LISTEN
      const port = parseInt(cols[1]!.split(':')[1]!, 16)
      if (ports.includes(port)) inodes.add(cols[9]!)
    }
  }
  return inodes
}

function holdsSocket(pid: number, inodes: Set<string>): boolean {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`)
      if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return true
    }
  } catch {
    // gone, or not ours to read
  }
  return false
}
