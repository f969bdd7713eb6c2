import { afterAll, describe, expect, it } from 'bun:test'
import { createServer, type Server } from 'node:net'
import { chooseInfra, freePort, oneLine, type Infra } from '@shop/testkit'

// "local" pointed at ports nobody listens on, or at ports a real TCP server answers on
const closedPorts = async () => ({ postgres: await freePort(), redis: await freePort(), rabbitmq: await freePort() })
const servers: Server[] = []
const listening = () =>
  new Promise<number>((resolve) => {
    const server = createServer((socket) => socket.destroy()).listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))
    servers.push(server)
  })
const openPorts = async () => ({ postgres: await listening(), redis: await listening(), rabbitmq: await listening() })
afterAll(() => servers.forEach((s) => s.close()))

const engine = { answers: async () => true, silent: async () => false }
// what docker-modem rejects with when a pull is refused: a message, a JSON body, a long stack
const pullRefused = async (): Promise<Infra> => {
  const error = new Error('(HTTP code 404) unexpected - pull access denied for postgres, repository does not exist\n{"message":"pull access denied"}')
  error.stack = `${error.message}\n    at docker-modem/lib/modem.js:343:17\n    at IncomingMessage.<anonymous>`
  throw error
}
const containersRun = async (): Promise<Infra> => ({ databaseUrl: 'postgres://c', redisUrl: 'redis://c', amqpUrl: 'amqp://c', source: 'testcontainers' })
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: Error) => e)

describe('choosing the infrastructure', () => {
  it('when all three URLs are in the environment, then they are used as given', async () => {
    const env = { DATABASE_URL: 'postgres://db:1/x', REDIS_URL: 'redis://cache:2', AMQP_URL: 'amqp://mq:3' }
    expect(await chooseInfra(env, { dockerAnswers: engine.answers, startContainers: containersRun })).toMatchObject({
      source: 'env',
      databaseUrl: env.DATABASE_URL,
      redisUrl: env.REDIS_URL,
      amqpUrl: env.AMQP_URL,
    })
  })

  it('when no Docker engine and no server answers, then the error names each missing server and how to start it', async () => {
    const ports = await closedPorts()
    const error = await failure(chooseInfra({}, { ports, dockerAnswers: engine.silent }))
    expect(error).toBeInstanceOf(Error)
    const message = error!.message
    expect(message).toContain('No Docker engine answers')
    expect(message).toContain(`PostgreSQL (127.0.0.1:${ports.postgres})`)
    expect(message).toContain(`Redis (127.0.0.1:${ports.redis})`)
    expect(message).toContain(`RabbitMQ (127.0.0.1:${ports.rabbitmq})`)
    expect(message).toContain('docker compose up -d postgres redis rabbitmq')
    expect(message).toContain('rabbitmq-server -detached')
    expect(message).toContain('DATABASE_URL, REDIS_URL and AMQP_URL')
  })

  it('when an engine answers and the containers start, then they are used', async () => {
    expect((await chooseInfra({}, { ports: await openPorts(), dockerAnswers: engine.answers, startContainers: containersRun })).source).toBe('testcontainers')
  })

  it('when the container start fails and the local servers answer, then it falls back to them with one line saying why', async () => {
    const ports = await openPorts()
    const chosen = await chooseInfra({}, { ports, dockerAnswers: engine.answers, startContainers: pullRefused })
    expect(chosen).toMatchObject({ source: 'local', databaseUrl: `postgres://postgres:postgres@127.0.0.1:${ports.postgres}/postgres` })
    expect(chosen.note).toContain('pull access denied for postgres')
    expect(chosen.note).toContain('using the servers on the local ports instead')
    expect(chosen.note).not.toContain('\n')
  })

  it('when the container start fails and no local server answers, then one error says both and what to start', async () => {
    const error = await failure(chooseInfra({}, { ports: await closedPorts(), dockerAnswers: engine.answers, startContainers: pullRefused }))
    expect(error!.message).toContain('containers could not start')
    expect(error!.message).toContain('pull access denied')
    expect(error!.message).toContain('docker compose up -d postgres redis rabbitmq')
    expect(error!.message).not.toContain('modem.js')
  })

  it('when HARNESS_INFRA=containers and the start fails, then it is an error even though local servers answer', async () => {
    const env = { HARNESS_INFRA: 'containers' }
    const error = await failure(chooseInfra(env, { ports: await openPorts(), dockerAnswers: engine.answers, startContainers: pullRefused }))
    expect(error!.message).toContain('HARNESS_INFRA=containers, but the containers could not start')
    const noEngine = await failure(chooseInfra(env, { ports: await openPorts(), dockerAnswers: engine.silent, startContainers: containersRun }))
    expect(noEngine!.message).toContain('no Docker engine answers')
  })

  it('when HARNESS_INFRA=local, then the local ports are used even where containers could start, and must answer', async () => {
    const env = { HARNESS_INFRA: 'local', DATABASE_URL: 'postgres://db:1/x', REDIS_URL: 'redis://cache:2', AMQP_URL: 'amqp://mq:3' }
    expect((await chooseInfra(env, { ports: await openPorts(), dockerAnswers: engine.answers, startContainers: containersRun })).source).toBe('local')
    const error = await failure(chooseInfra(env, { ports: await closedPorts(), dockerAnswers: engine.answers, startContainers: containersRun }))
    expect(error!.message).toContain('HARNESS_INFRA=local, and these servers are not reachable')
  })

  it('when HARNESS_INFRA=env and a URL is missing, then the error names it', async () => {
    const error = await failure(chooseInfra({ HARNESS_INFRA: 'env', DATABASE_URL: 'postgres://db:1/x' }, { dockerAnswers: engine.answers, startContainers: containersRun }))
    expect(error!.message).toBe('HARNESS_INFRA=env, but REDIS_URL, AMQP_URL are not set.')
  })

  it('when HARNESS_NO_CONTAINERS=1, then an answering engine is not used', async () => {
    const chosen = await chooseInfra({ HARNESS_NO_CONTAINERS: '1' }, { ports: await openPorts(), dockerAnswers: engine.answers, startContainers: pullRefused })
    expect(chosen.source).toBe('local')
    expect(chosen.note).toBeUndefined()
  })

  it('when HARNESS_INFRA is misspelt, then the error lists the choices', async () => {
    const error = await failure(chooseInfra({ HARNESS_INFRA: 'docker' }))
    expect(error!.message).toContain('HARNESS_INFRA=docker is not one of containers, local, env')
  })

  it('when a container error is summarised, then it is its first line, and a Ryuk failure says how to do without', () => {
    expect(oneLine(new Error('(HTTP code 500) server error - boom\n  at modem.js'))).toBe('HTTP 500: server error - boom')
    expect(oneLine(new Error('pull access denied for testcontainers/ryuk:0.14.0'))).toContain('TESTCONTAINERS_RYUK_DISABLED=true')
  })
})
