import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Infra } from './infra-types.ts'

/** The images the testkit runs; the same tags as compose.yml. */
export const IMAGES = { postgres: 'postgres:17-alpine', redis: 'redis:7-alpine', rabbitmq: 'rabbitmq:3.13-management-alpine' }

type Started = { getId(): string; stop(): Promise<unknown> }

/**
 * PostgreSQL, Redis and RabbitMQ in containers through testcontainers. All three or none: when
 * one fails or `timeoutMs` passes, the ones that started (now or later) are stopped and the
 * error says which failed and why in one line. Containers that start are removed when this
 * process ends: by Ryuk, or where Ryuk is disabled (TESTCONTAINERS_RYUK_DISABLED=true) by the
 * testkit's own reaper process.
 */
export async function startContainers(
  env: Record<string, string | undefined>,
  { images = IMAGES, timeoutMs = Number(env.HARNESS_CONTAINERS_TIMEOUT_MS ?? 180_000) } = {},
): Promise<Infra> {
  const [{ PostgreSqlContainer }, { RedisContainer }, { RabbitMQContainer }] = await Promise.all([
    import('@testcontainers/postgresql'),
    import('@testcontainers/redis'),
    import('@testcontainers/rabbitmq'),
  ])
  const reap = env.TESTCONTAINERS_RYUK_DISABLED === 'true' ? reaper() : undefined
  const starts = {
    PostgreSQL: new PostgreSqlContainer(images.postgres).withUsername('postgres').withPassword('postgres').start(),
    Redis: new RedisContainer(images.redis).start(),
    RabbitMQ: new RabbitMQContainer(images.rabbitmq).start(),
  }
  // removal is arranged as soon as each one runs, whatever happens to the others
  for (const started of Object.values(starts)) void started.then((c) => reap?.(c.getId()), () => {})

  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)))
  const all = Promise.allSettled(Object.values(starts))
  const settled = await Promise.race([all, deadline])
  clearTimeout(timer)

  if (settled === 'timeout' || settled.some((s) => s.status === 'rejected')) {
    const names = Object.keys(starts)
    const reason = settled === 'timeout' ? `not all running after ${Math.round(timeoutMs / 1000)} s (HARNESS_CONTAINERS_TIMEOUT_MS)` : byReason(settled, names)
    const ryuk = env.TESTCONTAINERS_RYUK_DISABLED !== 'true' && /registry|pull|manifest/i.test(reason)
    for (const started of Object.values(starts)) void started.then(stopQuietly, () => {})
    throw new Error(ryuk ? `${reason} (with Ryuk on, its image testcontainers/ryuk is pulled first; TESTCONTAINERS_RYUK_DISABLED=true does without it)` : reason)
  }
  const [pg, redis, rabbit] = await Promise.all([starts.PostgreSQL, starts.Redis, starts.RabbitMQ])
  return {
    databaseUrl: pg.getConnectionUri(),
    redisUrl: redis.getConnectionUrl(),
    amqpUrl: rabbit.getAmqpUrl(),
    managementUrl: `http://guest:guest@${rabbit.getHost()}:${rabbit.getMappedPort(15672)}`,
    source: 'testcontainers',
    containers: [pg, redis, rabbit].map((c) => c.getId()),
  }
}

/** "PostgreSQL, Redis: the reason; RabbitMQ: another": each distinct reason once */
function byReason(settled: PromiseSettledResult<unknown>[], names: string[]): string {
  const reasons = new Map<string, string[]>()
  settled.forEach((s, i) => {
    if (s.status === 'rejected') reasons.set(oneLine(s.reason), [...(reasons.get(oneLine(s.reason)) ?? []), names[i]!])
  })
  return [...reasons].map(([reason, who]) => `${who.join(', ')}: ${reason}`).join('; ')
}

const stopQuietly = (c: Started) => c.stop().catch(() => {})

/** The first line of an error, without docker-modem's JSON wrapping or a stack; with a hint for Ryuk. */
export function oneLine(error: unknown, max = 240): string {
  const text = error instanceof Error ? error.message : String(error)
  const line = (text.split('\n').find((l) => l.trim()) ?? text).trim()
  const clean = line.replace(/^\(HTTP code (\d+)\)\s*/, 'HTTP $1: ').slice(0, max)
  return /ryuk/i.test(text) && !/TESTCONTAINERS_RYUK_DISABLED/.test(clean) ? `${clean} (Ryuk, testcontainers' reaper; TESTCONTAINERS_RYUK_DISABLED=true does without it)` : clean
}

/**
 * Starts the reaper process (reaper.ts) and returns how to hand it a container id. It holds the
 * read end of a pipe from this process; when this process ends, however it ends, the pipe
 * closes and the reaper removes every container it was given.
 */
function reaper(): (id: string) => void {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./reaper.ts', import.meta.url))], {
    detached: true,
    stdio: ['pipe', 'ignore', 'inherit'],
  })
  child.unref()
  ;(child.stdin as unknown as { unref?: () => void }).unref?.()
  return (id) => void child.stdin?.write(`${id}\n`)
}
