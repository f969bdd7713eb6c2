/**
 * Starting the servers of a cluster as daemons (own process group, output to a log file in their
 * directory) and the small helpers the clusters share. Which processes belong to a cluster is
 * owned.ts's business.
 */
import { spawn, execFile } from 'node:child_process'
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs'
import { killOwned } from './owned.ts'
import { reachable } from '@shop/testkit'

export { ownedPids, killOwned } from './owned.ts'

export type Daemon = {
  name: string
  pid: number
  exited: Promise<number | null>
  alive(): boolean
  /** SIGKILL to its process group and to every process working in its directory; resolves once all are gone */
  kill9(): Promise<void>
  /** SIGTERM to its process group, SIGKILL after graceMs */
  stop(graceMs?: number): Promise<void>
  /** the last lines of its log file, for error messages */
  logTail(lines?: number): string
}

const live = new Set<Daemon>()
// a test process that ends early takes its daemons with it; the next start reaps the rest
process.once('exit', () => {
  for (const d of live) signalGroup(d.pid, 'SIGKILL')
})

/** Runs `cmd` in its own process group with cwd `dir`, its output appended to `logFile`. */
export function startDaemon(
  name: string,
  cmd: string,
  args: string[],
  { dir, env, logFile, uid, gid }: { dir: string; env: Record<string, string>; logFile: string; uid?: number; gid?: number },
): Daemon {
  const fd = openSync(logFile, 'a')
  const child = spawn(cmd, args, { cwd: dir, env, detached: true, stdio: ['ignore', fd, fd], uid, gid })
  closeSync(fd)
  let gone = false
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.once('error', () => resolve(null))
  })
  const daemon: Daemon = {
    name,
    pid: child.pid ?? -1,
    exited,
    alive: () => !gone,
    async kill9() {
      signalGroup(daemon.pid, 'SIGKILL')
      await killOwned(dir, [])
      await exited
    },
    async stop(graceMs = 15_000) {
      if (gone) return
      signalGroup(daemon.pid, 'SIGTERM')
      const timer = setTimeout(() => signalGroup(daemon.pid, 'SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
      await killOwned(dir, [])
    },
    logTail: (lines = 30) => tail(logFile, lines),
  }
  void exited.then(() => {
    gone = true
    live.delete(daemon)
  })
  live.add(daemon)
  return daemon
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  if (pid <= 0) return
  try {
    process.kill(-pid, signal)
  } catch {
    // the group is already gone
  }
}

export function tail(file: string, lines = 30): string {
  if (!existsSync(file)) return `(no ${file})`
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
}

/** Runs a command to completion and returns its stdout; rejects with its stderr. */
export function run(cmd: string, args: string[], { env, timeout = 20_000 }: { env?: Record<string, string>; timeout?: number } = {}) {
  return new Promise<string>((resolve, reject) => {
    execFile(cmd, args, { env, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr || error.message).trim()}`))
      else resolve(stdout)
    })
  })
}

/** Whether something accepts connections on 127.0.0.1:`port` now (the testkit's own probe, with a shorter wait). */
export const accepts = (port: number, host = '127.0.0.1', timeoutMs = 500) => reachable(host, port, timeoutMs)

/** The environment the servers start with: PATH and a UTF-8 locale, nothing inherited by chance. */
export function baseEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', ...extra }
}

export const since = (start: number) => Math.round(performance.now() - start)
