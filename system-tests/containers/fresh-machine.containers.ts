/**
 * The README's test command on a newcomer's machine: a clean clone of this commit, `bun install`,
 * then `bun run test` with Bun and a Docker engine and nothing else. The run is made where:
 * - deno, a browser, promtool, kubectl, node and the servers' own clients are not on the PATH;
 * - nothing answers on the standard local ports: it runs in a network namespace of its own, whose
 *   127.0.0.1 is empty, and reaches the Docker engine through its socket and the containers'
 *   published ports through a veth pair (TESTCONTAINERS_HOST_OVERRIDE names the host's end);
 * - HARNESS_REQUIRE_TOOLS is not set, as on a laptop.
 * It must pass, take PostgreSQL, Redis and RabbitMQ from testcontainers, run the Deno half of the
 * contract suites on the project's own Deno, and end by naming each missing tool and how to get it.
 *
 * Run by `bun run test:fresh-machine` (CI does): it needs root (`ip netns`) and a Docker engine,
 * and takes a full run's time. It clones what is committed, not the working tree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'fresh-machine-'))
const clone = join(work, 'shop')
const bin = join(work, 'bin')
const report = join(work, 'report.xml')
// the whole output of the inner run, kept after the run for whoever reads a failure
const log = join(tmpdir(), 'fresh-machine-last-run.log')
const tag = String(process.pid % 100_000)
const ns = `shopfresh${tag}`
const hostEnd = { name: `vfh${tag}`, address: '10.251.0.1' }
const nsEnd = { name: `vfn${tag}`, address: '10.251.0.2' }

/** What a machine with Bun and Docker alone does not have. */
const HIDDEN = /^(deno|node|nodejs|npm|npx|chromium.*|google-chrome.*|promtool|prometheus.*|kubectl.*|psql|pg_.*|postgres|redis-.*|rabbitmq.*|etcd.*|patroni.*)$/

function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', ...options })
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${result.status}\n${result.stdout}${result.stderr}`)
  return result.stdout
}
const inNs = (script: string, env: NodeJS.ProcessEnv) => spawnSync('ip', ['netns', 'exec', ns, 'env', '-i', ...envArgs(env), 'bash', '-c', script], { encoding: 'utf8' })
const envArgs = (env: NodeJS.ProcessEnv) => Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]))

/** A PATH directory with every program of this machine's usual ones except the hidden, and this Bun. */
function newcomersPath() {
  mkdirSync(bin)
  symlinkSync(process.execPath, join(bin, 'bun'))
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])
    for (const name of existsSync(dir) ? readdirSync(dir) : [])
      if (!HIDDEN.test(name) && !existsSync(join(bin, name))) symlinkSync(join(dir, name), join(bin, name))
}

function networkNamespace() {
  run('ip', ['netns', 'add', ns])
  run('ip', ['link', 'add', hostEnd.name, 'type', 'veth', 'peer', 'name', nsEnd.name])
  run('ip', ['link', 'set', nsEnd.name, 'netns', ns])
  run('ip', ['addr', 'add', `${hostEnd.address}/30`, 'dev', hostEnd.name])
  run('ip', ['link', 'set', hostEnd.name, 'up'])
  run('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${nsEnd.address}/30`, 'dev', nsEnd.name])
  run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', nsEnd.name, 'up'])
  run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'])
}

// the newcomer's environment: nothing of this machine's but a home, the PATH above, the Docker
// engine's address if it has one, and how to reach the containers from inside the namespace
const newcomer: NodeJS.ProcessEnv = {
  HOME: join(work, 'home'),
  PATH: bin,
  TMPDIR: tmpdir(),
  DOCKER_HOST: process.env.DOCKER_HOST,
  TESTCONTAINERS_HOST_OVERRIDE: hostEnd.address,
  // where Ryuk's image cannot be pulled (CI's offline engine), the testkit's own reaper stands in
  TESTCONTAINERS_RYUK_DISABLED: process.env.TESTCONTAINERS_RYUK_DISABLED,
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('the fresh-machine run needs root: it makes a network namespace (ip netns)')
  run('git', ['clone', '-q', root, clone])
  // bun install needs the npm registry, so it runs before the namespace; a newcomer runs it first too
  run(process.execPath, ['install', '--frozen-lockfile'], { cwd: clone })
  newcomersPath()
  mkdirSync(newcomer.HOME!)
  networkNamespace()
}, 300_000)

afterAll(() => {
  spawnSync('ip', ['netns', 'del', ns])
  rmSync(work, { recursive: true, force: true })
})

describe('on a machine with Bun and Docker alone', () => {
  it('when the tools and the local servers are out of reach, then neither is found', () => {
    const look = inNs(
      `for t in deno chromium promtool kubectl node psql; do command -v $t && echo "found $t"; done
       for p in 5432 6379 5672 15672; do (echo > /dev/tcp/127.0.0.1/$p) 2>/dev/null && echo "port $p answers"; done; echo checked`,
      newcomer,
    )
    expect(look.stdout.trim()).toBe('checked')
    // and the same check finds them where they are: it can fail
    expect(spawnSync('bash', ['-c', `command -v bun`], { env: newcomer, encoding: 'utf8' }).stdout.trim()).toBe(join(bin, 'bun'))
  })

  it(
    "when the README's test command runs in a clean clone, then every suite passes on containers, Deno runs from the project, and each missing tool is named with how to get it",
    async () => {
      const child = spawn('ip', ['netns', 'exec', ns, 'env', '-i', ...envArgs(newcomer), 'bun', 'run', 'test', '--reporter=junit', `--reporter-outfile=${report}`], {
        cwd: clone,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      const keep = (chunk: Buffer) => (output += chunk.toString())
      child.stdout.on('data', keep)
      child.stderr.on('data', keep)
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
      writeFileSync(log, output)
      const failed = output.match(/^\(fail\).*$/gm) ?? []
      const summary = output.slice(-3_000)

      expect({ code, failed, log }).toEqual({ code: 0, failed: [], log })
      expect(output).toContain('[testkit] infrastructure: testcontainers')
      const totals = /<testsuites[^>]*tests="(\d+)"[^>]*failures="(\d+)"[^>]*skipped="(\d+)"/.exec(readFileSync(report, 'utf8'))
      const [tests, failures, skipped] = totals!.slice(1).map(Number) as [number, number, number]
      expect({ failures, summary }).toEqual({ failures: 0, summary })
      expect(tests).toBeGreaterThan(500)
      // the tests skipped are the browser, promtool and kubectl ones, and the run says why
      expect(skipped).toBeGreaterThan(0)
      const missing = output.slice(output.lastIndexOf('[testkit] skipped for want of a tool'))
      for (const tool of ['chromium', 'promtool', 'kubectl']) expect(missing).toMatch(new RegExp(`\\n {2}${tool}: .*To get it: `))
      expect(missing).not.toContain('rabbitmq management API') // the image testcontainers starts has it
      // the Deno half of the contract suites ran, on the project's own deno
      const xml = readFileSync(report, 'utf8')
      const denoCases = [...xml.matchAll(/<testcase name="[^"]*"[^>]*classname="[^"]*on deno[^"]*"[^>]*?(\/>|>[\s\S]*?<\/testcase>)/g)]
      expect(denoCases.length).toBeGreaterThan(20)
      expect(denoCases.filter((m) => m[0].includes('<skipped'))).toEqual([])
    },
    45 * 60_000,
  )
})
