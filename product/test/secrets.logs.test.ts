import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { eventually, isolate, spawnService, type Isolated } from '@shop/testkit'

// passwords in connection URLs must never reach a log line, not even when a connection fails
const PG_SECRET = 'pg-S3cret-7f1c'
const MQ_SECRET = 'mq-S3cret-9a2e'
let iso: Isolated
// a role of this run whose password is the secret, so the URL carrying it is one the server
// takes, whether it trusts local users or checks passwords (a container)
let role: string
beforeAll(async () => {
  iso = await isolate('secrets')
  role = `${iso.id}_secrets`.replace(/\W/g, '_')
  await iso.db('product').unsafe(`create role "${role}" login superuser password '${PG_SECRET}'`)
})
afterAll(async () => {
  // what the role made lives in this run's database only
  await iso.db('product').unsafe(`drop owned by "${role}"`)
  await iso.db('product').unsafe(`drop role if exists "${role}"`)
  await iso.cleanup()
})
const withPassword = (url: string, user: string, password: string) => {
  const u = new URL(url)
  u.username = user
  u.password = password
  return u.toString()
}

describe('secrets in logs', () => {
  it('when DATABASE_URL and AMQP_URL carry passwords and RabbitMQ refuses the login, then no output line holds them', async () => {
    const env = iso.env('product', { LOG_LEVEL: 'debug' })
    const product = await spawnService(
      'product',
      {
        ...env,
        DATABASE_URL: withPassword(env.DATABASE_URL!, role, PG_SECRET),
        AMQP_URL: withPassword(env.AMQP_URL!, 'guest', MQ_SECRET), // a wrong password: refused
      },
      { until: '/health' },
    )
    try {
      await eventually(() => /amqp|rabbitmq/i.test(product.output()), { what: 'a log line about the refused broker login' })
      await fetch(`${product.url}/ready`)
    } finally {
      await product.stop()
    }
    expect(product.output()).not.toContain(PG_SECRET)
    expect(product.output()).not.toContain(MQ_SECRET)
  }, 30_000)

  it('when the configuration is invalid, then the error names the variable but not the secrets next to it', async () => {
    const env = iso.env('product')
    const failed = await spawnService('product', {
      ...env,
      DB_POOL_MAX: 'lots',
      DATABASE_URL: withPassword(env.DATABASE_URL!, role, PG_SECRET),
    }).then(
      () => 'started',
      (err: Error) => err.message,
    )
    expect(failed).toContain('DB_POOL_MAX')
    expect(failed).not.toContain(PG_SECRET)
  })
})
