import { connect } from 'node:net'
import postgres from 'postgres'
import { createClient } from 'redis'
import amqp from 'amqplib'

export type Infra = {
  databaseUrl: string
  redisUrl: string
  amqpUrl: string
  source: 'env' | 'testcontainers' | 'local'
  /** RabbitMQ management UI, when the chosen broker has one we know of */
  managementUrl?: string
}

const LOCAL = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: 'redis://127.0.0.1:6379',
  amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
}

const HOW_TO_START = `Start them, then run again. Either
  docker compose up -d postgres redis rabbitmq        (where a Docker engine runs), or on Debian:
  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
  redis-server --daemonize yes --port 6379 --save "" --appendonly no
  rabbitmq-server -detached
or point DATABASE_URL, REDIS_URL and AMQP_URL at running servers.`

let infra: Promise<Infra> | undefined

/**
 * PostgreSQL, Redis and RabbitMQ for this process, chosen once: the env URLs when all three are
 * set; else containers through testcontainers when a Docker engine answers; else the standard
 * local ports. Says which on stderr.
 */
export function startInfra(env: Record<string, string | undefined> = process.env): Promise<Infra> {
  infra ??= chooseInfra(env).then((chosen) => {
    if (env.HARNESS_QUIET !== '1') console.error(`[harness] infrastructure: ${chosen.source}`)
    return chosen
  })
  return infra
}

const STANDARD_PORTS = { postgres: 5432, redis: 6379, rabbitmq: 5672 }

/** The choice itself, without caching; `ports` lets a test point "local" at closed ports. */
export async function chooseInfra(env: Record<string, string | undefined>, ports = STANDARD_PORTS): Promise<Infra> {
  if (env.DATABASE_URL && env.REDIS_URL && env.AMQP_URL)
    return {
      databaseUrl: env.DATABASE_URL,
      redisUrl: env.REDIS_URL,
      amqpUrl: env.AMQP_URL,
      managementUrl: env.RABBITMQ_MANAGEMENT_URL,
      source: 'env',
    }
  if (env.HARNESS_NO_CONTAINERS !== '1' && (await dockerAnswers())) return startContainers()
  const down = (
    await Promise.all(
      [
        ['PostgreSQL', ports.postgres],
        ['Redis', ports.redis],
        ['RabbitMQ', ports.rabbitmq],
      ].map(async ([name, port]) => ((await reachable('127.0.0.1', port as number)) ? [] : [`${name} (127.0.0.1:${port})`])),
    )
  ).flat()
  if (down.length) throw new Error(`No Docker engine answers and these servers are not reachable: ${down.join(', ')}.\n${HOW_TO_START}`)
  return { ...LOCAL, source: 'local', managementUrl: env.RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672' }
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
    return true
  } catch {
    return false // "Could not find a working container runtime strategy", in milliseconds
  }
}

async function startContainers(): Promise<Infra> {
  const [{ PostgreSqlContainer }, { RedisContainer }, { RabbitMQContainer }] = await Promise.all([
    import('@testcontainers/postgresql'),
    import('@testcontainers/redis'),
    import('@testcontainers/rabbitmq'),
  ])
  const [pg, redis, rabbit] = await Promise.all([
    new PostgreSqlContainer('postgres:17-alpine').withUsername('postgres').withPassword('postgres').start(),
    new RedisContainer('redis:7-alpine').start(),
    new RabbitMQContainer('rabbitmq:3.13-management-alpine').start(),
  ])
  return {
    databaseUrl: pg.getConnectionUri(),
    redisUrl: redis.getConnectionUrl(),
    amqpUrl: rabbit.getAmqpUrl(),
    managementUrl: `http://guest:guest@${rabbit.getHost()}:${rabbit.getMappedPort(15672)}`,
    source: 'testcontainers',
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

/** A database URL on the same server with another database name. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
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
