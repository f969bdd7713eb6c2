/**
 * The connection shapes the cluster suite proves (saga.clusters.ts), read the way the services
 * read them, without a cluster: AMQP_URL as a list of nodes, REDIS_SENTINELS with the master's
 * name and REDIS_URL's password, a multi-host DATABASE_URL whose database the testkit replaces.
 */
import { describe, expect, it } from 'bun:test'
import { Type as t } from '@sinclair/typebox'
import { amqpUrls } from '@shop/kit/messaging'
import { readEnv, serviceConfig, serviceEnv } from '@shop/kit'
import { sentinelAddress, sentinelOf } from '@shop/kit/cache'
import { withDatabase } from '@shop/testkit'

const Config = t.Object(serviceEnv({ port: 3000, database: 'shop_x', cachePrefix: 'x:' }))
const configOf = (env: Record<string, string>) => serviceConfig(readEnv(Config, env), 'q', {})

describe('AMQP_URL', () => {
  it('when it lists the nodes of a cluster, then each is a URL of its own, a comma in a password included', () => {
    expect(amqpUrls('amqp://u:p@127.0.0.1:5701, amqp://u:p@127.0.0.1:5702,amqps://u:a,b@h3:5671/v')).toEqual([
      'amqp://u:p@127.0.0.1:5701',
      'amqp://u:p@127.0.0.1:5702',
      'amqps://u:a,b@h3:5671/v',
    ])
  })

  it('when it names one broker, then that is the only one', () => {
    expect(amqpUrls('amqp://guest:guest@shop-rabbitmq.shop.svc:5672')).toEqual(['amqp://guest:guest@shop-rabbitmq.shop.svc:5672'])
  })
})

describe('REDIS_SENTINELS', () => {
  it('when set with a master name, then the services ask those Sentinels for that master instead of REDIS_URL', () => {
    const c = configOf({ REDIS_SENTINELS: 'shop-redis.shop.svc:26379, 10.0.0.2:26380', REDIS_SENTINEL_NAME: 'shop' })
    expect(c.redisSentinel).toEqual({
      name: 'shop',
      nodes: [
        { host: 'shop-redis.shop.svc', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
      ],
    })
    expect(configOf({}).redisSentinel).toBeUndefined()
    expect(configOf({ REDIS_SENTINELS: 'h:26379' }).redisSentinel?.name).toBe('mymaster')
  })

  it('when an entry has no port, then the start fails naming the variable', () => {
    expect(() => configOf({ REDIS_SENTINELS: 'shop-redis.shop.svc' })).toThrow('REDIS_SENTINELS')
  })

  it("when the target carries REDIS_URL's password, then the address handed to the near cache keeps it, and a plain URL is no Sentinel", () => {
    const target = { name: 'my master', nodes: [{ host: 'h', port: 26379 }], username: 'app', password: 'p@ss/w:rd' }
    expect(sentinelOf(sentinelAddress(target))).toEqual(target)
    expect(sentinelOf(sentinelAddress({ name: 'shop', nodes: [{ host: '127.0.0.1', port: 26391 }] }))).toEqual({ name: 'shop', nodes: [{ host: '127.0.0.1', port: 26391 }] })
    expect(sentinelOf('redis://:secret@127.0.0.1:6379')).toBeUndefined()
  })
})

describe('a multi-host DATABASE_URL', () => {
  it('when the testkit gives each service its own database, then every host and target_session_attrs stay', () => {
    expect(withDatabase('postgres://postgres@127.0.0.1:5441,127.0.0.1:5442/shop?target_session_attrs=primary', 'shop_x_order')).toBe(
      'postgres://postgres@127.0.0.1:5441,127.0.0.1:5442/shop_x_order?target_session_attrs=primary',
    )
    expect(withDatabase('postgres://u:p@h:5432', 'postgres')).toBe('postgres://u:p@h:5432/postgres')
  })
})
