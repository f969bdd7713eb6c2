/**
 * The testkit's container start against a real Docker engine: a start that fails falls back to
 * the local servers with one line, HARNESS_INFRA=containers refuses to, and the containers it
 * started are removed when its process ends, even by SIGKILL. Run by `bun run test:containers`.
 */
import { describe, expect, it } from 'bun:test'
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { chooseInfra, eventually, startContainers } from '@shop/testkit'

// a registry nobody runs: every pull is refused at once
const unpullable = { postgres: '127.0.0.1:9/shop/none-pg:0', redis: '127.0.0.1:9/shop/none-redis:0', rabbitmq: '127.0.0.1:9/shop/none-mq:0' }
const env = { ...process.env, TESTCONTAINERS_RYUK_DISABLED: 'true' }
const docker = (...args: string[]) => spawnSync('docker', args, { encoding: 'utf8' }).stdout.trim()

describe('starting containers for the tests', () => {
  it('when the images cannot be pulled and the local servers answer, then it falls back to them with one line saying why', async () => {
    const chosen = await chooseInfra({ TESTCONTAINERS_RYUK_DISABLED: 'true' }, { startContainers: (e) => startContainers(e, { images: unpullable }) })
    expect(chosen.source).toBe('local')
    expect(chosen.note).toStartWith('containers could not start (PostgreSQL, Redis, RabbitMQ: ')
    expect(chosen.note).toContain('127.0.0.1:9')
    expect(chosen.note).not.toContain('\n')
  }, 60_000)

  it('when HARNESS_INFRA=containers and the images cannot be pulled, then it is one error, not a fallback', async () => {
    const error = await chooseInfra({ HARNESS_INFRA: 'containers', TESTCONTAINERS_RYUK_DISABLED: 'true' }, { startContainers: (e) => startContainers(e, { images: unpullable }) }).then(
      () => undefined,
      (e: Error) => e,
    )
    expect(error?.message).toStartWith('HARNESS_INFRA=containers, but the containers could not start: PostgreSQL, Redis, RabbitMQ: ')
    expect(error?.message).not.toContain('\n')
  }, 60_000)

  it('when the process that started the containers is killed, then its containers are removed', async () => {
    const script = `import { startContainers } from '@shop/testkit'; const i = await startContainers(process.env); console.log(JSON.stringify(i.containers)); setInterval(() => {}, 1000)`
    const child = spawn(process.execPath, ['-e', script], { cwd: fileURLToPath(new URL('.', import.meta.url)), env, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    const ids = await eventually(() => (out.includes(']') ? (JSON.parse(out) as string[]) : undefined), { timeout: 120_000, interval: 100, what: 'containers started' })
    expect(ids.length).toBe(3)
    expect(docker('ps', '-q', '--no-trunc', ...ids.flatMap((id) => ['--filter', `id=${id}`])).split('\n').filter(Boolean).length).toBe(3)

    child.kill('SIGKILL')
    await eventually(() => docker('ps', '-aq', ...ids.flatMap((id) => ['--filter', `id=${id}`])) === '', { timeout: 30_000, interval: 200, what: 'the containers removed' })
  }, 180_000)
})
