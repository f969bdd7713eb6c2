import postgres from 'postgres'
import amqp, { type Channel, type ChannelModel } from 'amqplib'
import { createClient } from 'redis'
import { topology } from '@shop/kit/messaging'
import { removeIsolated, startInfra, withDatabase, type Infra } from './infra.ts'
import { authEnv, serviceAuthEnv } from './tokens.ts'

export type ServiceName = 'product' | 'order'

export type Isolated = {
  id: string
  infra: Infra
  exchange: string
  queues: Record<ServiceName, string>
  /**
   * env for one service: its own database, Redis prefix, and this run's exchange and queues.
   * `limits: 'raised'` (the default) lifts the per-caller rate limits for suites that fire bursts
   * from one address and are about something else; `'shipped'` keeps every default.
   */
  env(service: ServiceName, extra?: Record<string, string>, options?: { limits: 'raised' | 'shipped' }): Record<string, string>
  /** a connection to a service's database, for arranging and asserting */
  db(service: ServiceName): postgres.Sql
  /** the Redis keys of one service's prefix that match `pattern` (without the prefix), e.g. `rl:*` */
  cacheKeys(service: ServiceName, pattern: string): Promise<string[]>
  /** a channel on this run's broker connection, for publishing and inspecting */
  channel(): Promise<Channel>
  cleanup(): Promise<void>
}

/**
 * A private slice of the shared servers for one test file (or one bench run): fresh databases,
 * a Redis key prefix, and exchange/queue names nobody else uses. `cleanup` removes all of it.
 */
export async function isolate(label = 't'): Promise<Isolated> {
  const infra = await startInfra()
  const id = `${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 12)}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
  const databases = { product: `shop_${id}_product`, order: `shop_${id}_order` }
  const exchange = `${id}.events`
  const queues = { product: `${id}.product.order-events`, order: `${id}.order.stock-events` }
  const names = topology(exchange)
  const connections = new Map<ServiceName, postgres.Sql>()
  let broker: ChannelModel | undefined
  let channel: Promise<Channel> | undefined

  const admin = postgres(withDatabase(infra.databaseUrl, 'postgres'), { max: 1, onnotice: () => {} })
  try {
    for (const name of Object.values(databases)) await admin.unsafe(`create database "${name}"`)
  } finally {
    await admin.end()
  }

  return {
    id,
    infra,
    exchange,
    queues,
    env: (service, extra = {}, { limits } = { limits: 'raised' }) => ({
      PORT: '0',
      DATABASE_URL: withDatabase(infra.databaseUrl, databases[service]),
      REDIS_URL: infra.redisUrl,
      AMQP_URL: infra.amqpUrl,
      CACHE_PREFIX: `${id}:${service}:`,
      EVENTS_EXCHANGE: exchange,
      PRODUCT_QUEUE: queues.product,
      ORDER_QUEUE: queues.order,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error', // outage suites provoke warnings on purpose
      ...authEnv(),
      ...serviceAuthEnv(service),
      // raised for suites that are not about limits (they fire bursts from one address with one
      // token); the defaults suites ask for 'shipped', the rate-limit suites set their own
      ...(limits === 'raised' ? { RATE_LIMIT_ORDERS: '1000000', RATE_LIMIT_WRITES: '1000000', RATE_LIMIT_READS: '1000000' } : {}),
      // CI runs the saga, event and fault suites once more on classic queues
      ...(process.env.QUEUE_TYPE ? { QUEUE_TYPE: process.env.QUEUE_TYPE } : {}),
      ...extra,
    }),
    db(service) {
      if (!connections.has(service))
        connections.set(
          service,
          postgres(withDatabase(infra.databaseUrl, databases[service]), { max: 4, onnotice: () => {}, transform: postgres.camel }),
        )
      return connections.get(service)!
    },
    async cacheKeys(service, pattern) {
      const redis = createClient({ url: infra.redisUrl })
      await redis.connect()
      try {
        const prefix = `${id}:${service}:`
        return (await redis.keys(`${prefix}${pattern}`)).map((k) => k.slice(prefix.length)).sort()
      } finally {
        await redis.close()
      }
    },
    channel() {
      channel ??= amqp.connect(infra.amqpUrl).then(async (m) => {
        broker = m
        return m.createChannel()
      })
      return channel
    },
    async cleanup() {
      await Promise.all([...connections.values()].map((c) => c.end({ timeout: 1 })))
      await broker?.close().catch(() => {})
      const allQueues = Object.values(queues).flatMap((q) => [q, names.dlq(q)])
      await removeIsolated(infra, {
        databases: Object.values(databases),
        redisPrefix: `${id}:`,
        exchanges: [names.exchange, names.deadLetters, names.unrouted],
        queues: [...allQueues, names.unrouted],
      })
    },
  }
}
