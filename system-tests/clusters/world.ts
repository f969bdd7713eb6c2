/**
 * product and order as processes on the clusters, given them in one of two shapes:
 *
 * - `nodes`: every node named: DATABASE_URL lists both PostgreSQL nodes with
 *   target_session_attrs=primary, AMQP_URL lists the three RabbitMQ nodes;
 * - `front`: one address in front of them, as on Kubernetes (front.ts): DATABASE_URL the
 *   primary's address as CloudNativePG's `<cluster>-rw` Service gives it (still with
 *   target_session_attrs=primary), AMQP_URL the RabbitMQ cluster operator's client Service.
 *
 * REDIS_SENTINELS is always one address in front of the three Sentinels (Bitnami's Service; the
 * client learns the others from it), and REDIS_URL points at a closed port, so a service that
 * ignored the Sentinels would have no Redis at all. Each world has its own databases, key prefix,
 * exchange and queues, as isolate() gives a test file on the single servers.
 */
import postgres from 'postgres'
import amqp from 'amqplib'
import { topology } from '@shop/kit/messaging'
import { spawnService, withDatabase, authEnv, serviceAuthEnv, eventually, type ServiceProcess } from '@shop/testkit'
import type { PostgresCluster } from './postgres.ts'
import type { RabbitCluster } from './rabbitmq.ts'
import type { RedisSentinel } from './redis.ts'
import { anyNode, onlyNode, startFront, type Front } from './front.ts'

export type Clusters = { rabbit: RabbitCluster; pg: PostgresCluster; redis: RedisSentinel }
type Service = 'product' | 'order'
export type Shape = 'nodes' | 'front'

export async function clusterWorld(c: Clusters, label: string, shape: Shape, extra: Partial<Record<Service, Record<string, string>>> = {}) {
  const id = `${label}_${Date.now().toString(36)}`
  const databases = { product: `shop_${id}_product`, order: `shop_${id}_order` }
  const exchange = `${id}.events`
  const queues = { product: `${id}.product.order-events`, order: `${id}.order.stock-events` }
  const admin = postgres(withDatabase(c.pg.url, 'postgres'), { max: 1, onnotice: () => {} })
  try {
    for (const name of Object.values(databases)) await admin.unsafe(`create database "${name}"`)
  } finally {
    await admin.end()
  }

  const fronts: Front[] = []
  const front = async (pick: Parameters<typeof startFront>[0]) => {
    const f = await startFront(pick)
    fronts.push(f)
    return f.port
  }
  const sentinels = await front(anyNode(c.redis.sentinels.map((s) => s.port)))
  const pgUrl =
    shape === 'nodes'
      ? c.pg.url
      : c.pg.urlOf(await front(onlyNode(() => c.pg.primary(300).catch(() => undefined)))).concat('?target_session_attrs=primary')
  const amqpUrl = shape === 'nodes' ? c.rabbit.urls.join(',') : `amqp://guest:guest@127.0.0.1:${await front(anyNode(c.rabbit.nodes.map((n) => n.port)))}`

  const env = (service: Service, more: Record<string, string> = {}): Record<string, string> => ({
    DATABASE_URL: withDatabase(pgUrl, databases[service]),
    AMQP_URL: amqpUrl,
    REDIS_SENTINELS: `127.0.0.1:${sentinels}`,
    REDIS_SENTINEL_NAME: c.redis.masterName,
    REDIS_URL: 'redis://127.0.0.1:1',
    CACHE_PREFIX: `${id}:${service}:`,
    EVENTS_EXCHANGE: exchange,
    PRODUCT_QUEUE: queues.product,
    ORDER_QUEUE: queues.order,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // auth on, as shipped, with this run's keys; only the per-caller rate limits are raised, as
    // the load comes from one address with one token and is not what these tests are about
    ...authEnv(),
    ...serviceAuthEnv(service),
    RATE_LIMIT_ORDERS: '1000000',
    RATE_LIMIT_WRITES: '1000000',
    RATE_LIMIT_READS: '1000000',
    ...extra[service],
    ...more,
  })

  const product = await spawnService('product', env('product'), { readyTimeout: 60_000 })
  let order: ServiceProcess
  try {
    order = await spawnService('order', env('order', { PRODUCT_URL: product.url }), { readyTimeout: 60_000 })
  } catch (e) {
    await product.stop('SIGKILL')
    throw e
  }
  const exitCodes = new Map<string, number | null>()
  for (const s of [product, order]) void s.exited.then((code) => exitCodes.set(s.name, code))
  const extras: ServiceProcess[] = []
  // through every host with target_session_attrs=primary, like the services: after a failover a
  // new connection finds the new primary
  const db = (service: Service) => postgres(withDatabase(c.pg.url, databases[service]), { max: 2, onnotice: () => {}, connect_timeout: 5 })

  return {
    id,
    shape,
    /** what the services were given */
    urls: { database: pgUrl, amqp: amqpUrl, sentinels: `127.0.0.1:${sentinels}` },
    exchange,
    queues,
    product,
    order,
    services: [product, order],
    /** runs `fn` on a new connection to a service's database, retried while the database fails over */
    async query<T>(service: Service, fn: (sql: postgres.Sql) => Promise<T>, timeout = 30_000): Promise<T> {
      return eventually(
        async () => {
          const sql = db(service)
          try {
            return { value: await fn(sql) }
          } finally {
            await sql.end({ timeout: 1 })
          }
        },
        { timeout, interval: 250, what: `a query on ${service}'s database` },
      ).then((r) => r.value)
    },
    /** messages in each dead-letter queue and in the unrouted queue, asked of the first node that answers */
    async parked(): Promise<Record<string, number>> {
      const names = topology(exchange)
      const watched = [names.dlq(queues.product), names.dlq(queues.order), names.unrouted]
      return eventually(
        async () => {
          for (const url of c.rabbit.urls) {
            const conn = await amqp.connect(url).catch(() => undefined)
            if (!conn) continue
            conn.on('error', () => {})
            try {
              const ch = await conn.createChannel()
              const counts: Record<string, number> = {}
              for (const q of watched) counts[q] = (await ch.checkQueue(q)).messageCount
              return counts
            } finally {
              await conn.close().catch(() => {})
            }
          }
          return undefined
        },
        { timeout: 20_000, interval: 500, what: 'a RabbitMQ node to count the dead letters' },
      )
    },
    /** the consumers each service reports on /ready (undefined while it does not answer) */
    async consumers(): Promise<Record<string, 'attached' | 'detached'> | undefined> {
      const states = await Promise.all(
        [product, order].map(async (s) => {
          const res = await fetch(`${s.url}/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined)
          return res ? ((await res.json()) as { consumers?: Record<string, 'attached' | 'detached'> }).consumers : undefined
        }),
      )
      if (states.some((s) => s === undefined)) return undefined
      return Object.assign({}, ...states)
    },
    /** what the services printed, for a failure's message */
    output: () => [product, order].map((s) => `--- ${s.name} ---\n${s.output().slice(-4000)}`).join('\n'),
    /** one more replica of product on the same clusters, stopped with the world */
    async productReplica() {
      const replica = await spawnService('product', env('product'), { readyTimeout: 60_000 })
      extras.push(replica)
      void replica.exited.then((code) => exitCodes.set(`${replica.name} (replica)`, code))
      return replica
    },
    /** the services that exited meanwhile (none may: a failover must not take a service down) */
    exited: () => [...exitCodes].map(([name, code]) => `${name} exited with ${code}`),
    async stop() {
      await Promise.all([order.stop(), product.stop(), ...extras.map((e) => e.stop())])
      await Promise.all(fronts.map((f) => f.close()))
      await admin.end().catch(() => {})
      const drop = postgres(withDatabase(c.pg.url, 'postgres'), { max: 1, onnotice: () => {}, connect_timeout: 5 })
      try {
        for (const name of Object.values(databases)) await drop.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {})
      } finally {
        await drop.end({ timeout: 1 })
      }
    },
  }
}

export type ClusterWorld = Awaited<ReturnType<typeof clusterWorld>>
