import { describe, expect, it } from 'bun:test'
import { chooseInfra, freePort } from '@shop/harness'

describe('choosing the infrastructure', () => {
  it('when all three URLs are in the environment, then they are used as given', async () => {
    const env = { DATABASE_URL: 'postgres://db:1/x', REDIS_URL: 'redis://cache:2', AMQP_URL: 'amqp://mq:3' }
    expect(await chooseInfra(env)).toMatchObject({ source: 'env', databaseUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL, amqpUrl: env.AMQP_URL })
  })

  it('when no Docker engine and no server answers, then the error names each missing server and how to start it', async () => {
    const ports = { postgres: await freePort(), redis: await freePort(), rabbitmq: await freePort() }
    const error = await chooseInfra({ HARNESS_NO_CONTAINERS: '1' }, ports).catch((e: Error) => e)
    expect(error).toBeInstanceOf(Error)
    const message = (error as Error).message
    expect(message).toContain(`PostgreSQL (127.0.0.1:${ports.postgres})`)
    expect(message).toContain(`Redis (127.0.0.1:${ports.redis})`)
    expect(message).toContain(`RabbitMQ (127.0.0.1:${ports.rabbitmq})`)
    expect(message).toContain('docker compose up -d postgres redis rabbitmq')
    expect(message).toContain('rabbitmq-server -detached')
    expect(message).toContain('DATABASE_URL, REDIS_URL and AMQP_URL')
  })

})
