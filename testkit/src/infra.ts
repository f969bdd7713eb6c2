import { connect } from 'node:net'
import postgres from 'postgres'
import { createClient } from 'redis'
import amqp from 'amqplib'
import { oneLine, startContainers as startTestcontainers } from './containers.ts'
import type { Infra } from './infra-types.ts'

export type { Infra } from './infra-types.ts'

const HOW_TO_START = `Start them, then run again. Either
  docker compose up -d postgres redis rabbitmq        (where a Docker engine runs), or on Debian:
  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
  redis-server --daemonize yes --port 6379 --save "" --appendonly no
  rabbitmq-server -detached
or point DATABASE_URL, REDIS_URL and AMQP_URL at running servers.`

let infra: Promise<Infra> | undefined

export type InfraMode = 'auto' | 'containers' | 'local' | 'env'

/**
 * PostgreSQL, Redis and RabbitMQ for this process, chosen once (see chooseInfra). Says which on
 * stderr, and why when containers were wanted but not used. When none is available it prints one
 * error saying what to start and ends the process: every test would fail the same way, and hooks
 * cleaning up after a world that was never built only hide the cause.
 */
export function startInfra(env: Record<string, string | undefined> = process.env): Promise<Infra> {
  infra ??= chooseInfra(env).then(
    (chosen) => {
      if (env.HARNESS_QUIET !== '1') {
        if (chosen.note) console.error(`[testkit] ${chosen.note}`)
        console.error(`[testkit] infrastructure: ${chosen.source}`)
      }
      return chosen
    },
    (error: Error) => {
      console.error(`[testkit] ${error.message}`)
      process.exit(1)
    },
  )
  return infra
}

const STANDARD_PORTS = { postgres: 5432, redis: 6379, rabbitmq: 5672 }

type Choice = {
  /** the ports "local" means; a test points them at closed or open ports */
  ports?: typeof STANDARD_PORTS
  dockerAnswers?: () => Promise<boolean>
  startContainers?: (env: Record<string, string | undefined>) => Promise<Infra>
}

/**
 * The choice itself, without caching. HARNESS_INFRA forces one source (an error when it is not
 * available). Unset, it takes the env URLs when all three are set; else containers through
 * testcontainers when a Docker engine answers (unless HARNESS_NO_CONTAINERS=1), falling back to
 * the standard local ports with a note saying why when they cannot start; else the local ports.
 */
export async function chooseInfra(env: Record<string, string | undefined>, choice: Choice = {}): Promise<Infra> {
  const { ports = STANDARD_PORTS, dockerAnswers = engineAnswers, startContainers = startTestcontainers } = choice
  const mode = infraMode(env)
  if (mode === 'env' || (mode === 'auto' && env.DATABASE_URL && env.REDIS_URL && env.AMQP_URL)) return fromEnv(env)
  if (mode === 'local') return local(env, ports)
  if (mode === 'containers') {
    if (!(await dockerAnswers())) throw new Error(`HARNESS_INFRA=containers, but no Docker engine answers (${DOCKER_HINT}).`)
    return startContainers(env).catch((e: Error) => {
      throw new Error(`HARNESS_INFRA=containers, but the containers could not start: ${oneLine(e, 800)}`)
    })
  }
  if (env.HARNESS_NO_CONTAINERS === '1' || !(await dockerAnswers())) return local(env, ports, 'No Docker engine answers')
  try {
    return await startContainers(env)
  } catch (e) {
    const why = `containers could not start (${oneLine(e, 800)})`
    const fallback = await local(env, ports, `A Docker engine answers, but ${why}`)
    return { ...fallback, note: `${why}; using the servers on the local ports instead` }
  }
}

export function infraMode(env: Record<string, string | undefined>): InfraMode {
  const mode = env.HARNESS_INFRA || 'auto'
  if (mode === 'auto' || mode === 'containers' || mode === 'local' || mode === 'env') return mode
  throw new Error(`HARNESS_INFRA=${mode} is not one of containers, local, env (or unset: the first that works).`)
}

const DOCKER_HINT = 'start one, or check DOCKER_HOST'

function fromEnv(env: Record<string, string | undefined>): Infra {
  const missing = ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL'].filter((name) => !env[name])
  if (missing.length) throw new Error(`HARNESS_INFRA=env, but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set.`)
  return {
    databaseUrl: env.DATABASE_URL!,
    redisUrl: env.REDIS_URL!,
    amqpUrl: env.AMQP_URL!,
    managementUrl: env.RABBITMQ_MANAGEMENT_URL,
    source: 'env',
  }
}

async function local(env: Record<string, string | undefined>, ports: typeof STANDARD_PORTS, why = 'HARNESS_INFRA=local'): Promise<Infra> {
  const servers = [
    ['PostgreSQL', ports.postgres],
    ['Redis', ports.redis],
    ['RabbitMQ', ports.rabbitmq],
  ] as const
  const down = (
    await Promise.all(servers.map(async ([name, port]) => ((await reachable('127.0.0.1', port)) ? [] : [`${name} (127.0.0.1:${port})`])))
  ).flat()
  if (down.length) throw new Error(`${why}, and these servers are not reachable: ${down.join(', ')}.\n${HOW_TO_START}`)
  return {
    // user and password as compose.yml sets them; a server with trust auth ignores the password
    databaseUrl: `postgres://postgres:postgres@127.0.0.1:${ports.postgres}/postgres`,
    redisUrl: `redis://127.0.0.1:${ports.redis}`,
    amqpUrl: `amqp://guest:guest@127.0.0.1:${ports.rabbitmq}`,
    source: 'local',
    managementUrl: env.RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672',
  }
}

async function engineAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
    return true
  } catch {
    return false // "Could not find a working container runtime strategy", in milliseconds
  }
}

export function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * A database URL on the same server with another database name. As a string: `new URL` cannot
 * parse a multi-host URL (`postgres://u@h1:5441,h2:5442/db?target_session_attrs=primary`).
 */
export function withDatabase(url: string, name: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(?:\/[^?#]*)?(.*)$/i, (_, server: string, rest: string) => `${server}/${encodeURIComponent(name)}${rest}`)
}

/** Drops what a run created: its database, its Redis keys, its exchanges and queues. */
export async function removeIsolated(
  infra: Infra,
  { databases, redisPrefix, exchanges, queues }: { databases: string[]; redisPrefix: string; exchanges: string[]; queues: string[] },
) {
  const admin = postgres(withDatabase(infra.databaseUrl, 'postgres'), { max: 1, onnotice: () => {} })
  try {
    for (const name of databases) await admin.unsafe(`drop database if exists "${name}" with (force)`)
  } finally {
    await admin.end()
  }

  const redis = await createClient({ url: infra.redisUrl }).connect()
  try {
    for await (const keys of redis.scanIterator({ MATCH: `${redisPrefix}*`, COUNT: 500 }))
      if (keys.length) await redis.del(keys)
  } finally {
    await redis.close()
  }

  const conn = await amqp.connect(infra.amqpUrl)
  try {
    const ch = await conn.createChannel()
    for (const q of queues) await ch.deleteQueue(q)
    for (const x of exchanges) await ch.deleteExchange(x)
    await ch.close()
  } finally {
    await conn.close()
  }
}

/** The values of the Redis keys that match `pattern`, for tests that look at what a service stored. */
export async function redisValues(url: string, pattern: string): Promise<Record<string, string>> {
  const redis = await createClient({ url }).connect()
  try {
    const values: Record<string, string> = {}
    for await (const keys of redis.scanIterator({ MATCH: pattern, COUNT: 500 }))
      for (const key of keys) values[key] = (await redis.get(key)) ?? ''
    return values
  } finally {
    await redis.close()
  }
}
