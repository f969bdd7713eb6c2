import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { denoExecutable } from './tools.ts'
import { eventually } from './wait.ts'

export type Runtime = 'bun' | 'deno'
/** The services the testkit can run as processes: a workspace with `src/main.ts` and a deno.json task. */
export type RunnableService = 'product' | 'order' | 'bff'
export type ServiceProcess = {
  name: string
  url: string
  pid: number
  runtime: Runtime
  /** SIGTERM (or the given signal) and wait for the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  exited: Promise<number | null>
  output(): string
}

const root = fileURLToPath(new URL('../../', import.meta.url))

/**
 * The exact command a runtime serves a service with, run from the repository root: on Deno the
 * `deno task` line from deno.json (one place for its permissions), on Bun `bun <service>/src/main.ts`.
 */
function commandFor(runtime: Runtime, service: RunnableService, root: string): [string, string[]] {
  if (runtime === 'deno') {
    const { tasks } = JSON.parse(readFileSync(join(root, 'deno.json'), 'utf8')) as { tasks: Record<string, string> }
    const [, ...args] = tasks[service]!.split(/\s+/) // "deno run --allow-… file": the project's own deno runs it
    return [denoExecutable(), args]
  }
  return [process.versions.bun ? process.execPath : 'bun', [`${service}/src/main.ts`]]
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * Runs a service as its own process, the way production does, and resolves once its /ready
 * answers 200. Fails with the process's output if it exits or is not ready in time.
 */
export async function spawnService(
  service: RunnableService,
  env: Record<string, string>,
  {
    runtime = 'bun',
    port,
    readyTimeout = 30_000,
    quiet = true,
    until = '/ready',
    from = root,
  }: {
    runtime?: Runtime
    port?: number
    readyTimeout?: number
    quiet?: boolean
    until?: '/ready' | '/health'
    /** the repository tree to run it from: this one, or a changed copy of it (a mutation test's) */
    from?: string
  } = {},
): Promise<ServiceProcess> {
  const listenOn = port ?? (await freePort())
  const [cmd, args] = commandFor(runtime, service, from)
  const child: ChildProcess = spawn(cmd, args, {
    cwd: from,
    env: { ...process.env, ...env, PORT: String(listenOn) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000)
    if (!quiet) process.stderr.write(chunk)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  let gone = false
  void exited.then(() => (gone = true))
  const url = `http://127.0.0.1:${listenOn}`
  try {
    // a process that exits while starting ends the wait at once, with what it printed
    const died = exited.then((code) => {
      throw new Error(`${service} exited with ${code} before it was ready`)
    })
    const ready = eventually(
      async () => (await fetch(`${url}${until}`).catch(() => undefined))?.status === 200,
      { timeout: readyTimeout, interval: 100, what: `${service} on ${runtime} ready` },
    )
    ready.catch(() => {}) // the loser of the race below must not surface later
    died.catch(() => {})
    await Promise.race([ready, died])
  } catch (err) {
    child.kill('SIGKILL')
    throw new Error(`${String(err)}\n--- ${service} output ---\n${output}`)
  }
  return {
    name: service,
    url,
    pid: child.pid!,
    runtime,
    exited,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (!gone) child.kill(signal)
      return exited
    },
  }
}
