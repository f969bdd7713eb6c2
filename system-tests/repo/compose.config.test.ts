import { describe, expect, it } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { Config as ProductConfig } from '@shop/product/config'
import { Config as OrderConfig } from '@shop/order/config'
import { Config as BffConfig } from '@shop/bff/config'

// compose.yml and the Dockerfiles checked without an engine, at the level of `docker compose config`:
// it parses, and every service, port, variable and health check the code relies on is there.
// `bun run test:containers` builds and runs them for real where a Docker engine answers.
const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
type Service = {
  image?: string
  build?: { context: string; dockerfile?: string; args?: Record<string, string> }
  environment?: Record<string, string>
  ports?: string[]
  healthcheck?: { test: string[] }
  depends_on?: Record<string, { condition: string }>
  profiles?: string[]
  volumes?: string[]
  command?: string[]
}
const compose = Bun.YAML.parse(read('compose.yml')) as { services: Record<string, Service>; volumes: Record<string, unknown> }
const services = compose.services
const known = { product: Object.keys(ProductConfig.properties), order: Object.keys(OrderConfig.properties), bff: Object.keys(BffConfig.properties) }

describe('compose.yml', () => {
  it('when parsed, then it runs postgres, redis, rabbitmq with its UI, product, order and the bff', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'rabbitmq', 'product', 'order', 'bff']))
    expect(services.rabbitmq!.image).toContain('management')
    expect(services.rabbitmq!.ports).toEqual(['127.0.0.1:${RABBITMQ_HOST_PORT:-5672}:5672', '127.0.0.1:${RABBITMQ_UI_HOST_PORT:-15672}:15672'])
  })

  it('when read by docker-compose v1.29 too, then it has no top-level name (v1 rejects it)', () => {
    expect(Object.keys(compose)).not.toContain('name')
  })

  it('when a service runs, then it has a health check', () => {
    const running = Object.entries(services).filter(([, s]) => !s.profiles)
    const unchecked = running.filter(([, s]) => !s.healthcheck?.test?.length).map(([name]) => name)
    expect(running.length).toBe(6)
    expect(unchecked).toEqual([])
  })

  it('when product and order start, then they wait for healthy infrastructure (order for product too)', () => {
    for (const name of ['product', 'order']) {
      const deps = services[name]!.depends_on!
      for (const infra of ['postgres', 'redis', 'rabbitmq']) expect(deps[infra]?.condition).toBe('service_healthy')
    }
    expect(services.order!.depends_on!.product?.condition).toBe('service_healthy')
    // the bff has no infrastructure of its own: it waits for the services behind it
    expect(services.bff!.depends_on).toEqual({ product: { condition: 'service_healthy' }, order: { condition: 'service_healthy' } })
  })

  it('when the services are configured, then every variable is one their config reads, pointing at compose hosts', () => {
    for (const name of ['product', 'order'] as const) {
      const env = services[name]!.environment!
      for (const key of Object.keys(env)) expect({ name, key, known: known[name].includes(key) }).toEqual({ name, key, known: true })
      expect(env.DATABASE_URL).toContain('@postgres:5432/')
      expect(env.REDIS_URL).toBe('redis://redis:6379')
      expect(env.AMQP_URL).toContain('@rabbitmq:5672')
    }
    expect(services.order!.environment!.PRODUCT_URL).toBe('http://product:3000')
    expect(services.product!.environment!.DATABASE_URL).not.toBe(services.order!.environment!.DATABASE_URL)
  })

  it('when the bff is configured, then every variable is one its config reads: the services behind it and how to check tokens, no data of its own', () => {
    const env = services.bff!.environment!
    expect(Object.keys(env).filter((key) => !known.bff.includes(key))).toEqual([])
    expect([env.PRODUCT_URL, env.ORDER_URL, env.PORT]).toEqual(['http://product:3000', 'http://order:8080', '5000'])
    // the same token settings as the services, so it accepts what they accept
    for (const key of ['AUTH', 'JWT_JWKS_URL', 'JWT_PUBLIC_KEY', 'JWT_ISSUER', 'JWT_AUDIENCE']) expect(env[key]).toBe(services.product!.environment![key])
  })

  it('when published, then on 127.0.0.1 only, on the standard ports unless the env moves them, with room for replicas', () => {
    expect(services.product!.ports).toEqual(['127.0.0.1:${PRODUCT_HOST_PORTS:-3000-3003}:3000'])
    expect(services.order!.ports).toEqual(['127.0.0.1:${ORDER_HOST_PORTS:-8080-8083}:8080'])
    expect(services.bff!.ports).toEqual(['127.0.0.1:${BFF_HOST_PORTS:-5000-5003}:5000'])
    expect(services.postgres!.ports).toEqual(['127.0.0.1:${POSTGRES_HOST_PORT:-5432}:5432'])
    expect(services.redis!.ports).toEqual(['127.0.0.1:${REDIS_HOST_PORT:-6379}:6379'])
  })

  it('when data is kept, then it is in named volumes', () => {
    for (const name of ['postgres', 'redis', 'rabbitmq']) {
      const volume = services[name]!.volumes![0]!.split(':')[0]!
      expect(Object.keys(compose.volumes)).toContain(volume)
    }
  })

  it('when built, then every service comes from the one multi-stage Dockerfile on the Bun image, non-root with a HEALTHCHECK', () => {
    const text = read('Dockerfile')
    expect(text.match(/^FROM oven\/bun:/gm)?.length).toBeGreaterThanOrEqual(2)
    expect(text).toContain('--production')
    expect(text).toMatch(/^USER (?!root)\w+/m)
    expect(text).toMatch(/^HEALTHCHECK /m)
    // a clean clone has no node_modules: the isolated install's per-workspace ones must be copied too
    expect(text).toContain('--filter "@shop/$SERVICE"')
    expect(text).toContain('COPY --from=build /app/node_modules node_modules')
    expect(text).toContain('COPY --from=build /app/$SERVICE $SERVICE')
    expect(text).toContain('CMD ["sh", "-c", "exec bun \\"$SERVICE/src/main.ts\\""]')
    expect(text).not.toMatch(/^COPY (testkit|tools|system-tests|\.) /m)
    // which service, and its port, are build arguments: beyond the workspace manifests that
    // bun.lock needs, no instruction names one
    const instructions = text.split('\n').filter((l) => !l.startsWith('#') && !/^COPY [\w-]+\/package\.json [\w-]+\/$/.test(l))
    expect(instructions.join('\n')).not.toMatch(/\b(product|order|bff)\b/)
    for (const [name, port] of [['product', '3000'], ['order', '8080'], ['bff', '5000']] as const) {
      const build = services[name]!.build!
      expect(build.dockerfile ?? 'Dockerfile').toBe('Dockerfile')
      expect(build.args).toEqual({ SERVICE: name, PORT: port })
      expect(existsSync(new URL(`${name}/src/main.ts`, root))).toBe(true)
    }
  })

  it('when the build context is sent, then .dockerignore keeps out node_modules, tests, the testkit, the tools, the system tests and .git', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim())
    expect(ignored).toEqual(
      expect.arrayContaining(['**/node_modules', '**/test', '**/*.test.ts', '.git', ...['testkit', 'tools', 'system-tests'].flatMap((w) => [w, `!${w}/package.json`])]),
    )
  })

  it('when CI builds on an engine without NAT, then its override builds with the host network, nothing else', () => {
    const ci = Bun.YAML.parse(read('.ci/compose.ci.yml')) as { services: Record<string, Service & { build: { network: string } }> }
    expect(Object.keys(ci.services).sort()).toEqual(['bff', 'order', 'product'])
    for (const s of Object.values(ci.services)) expect(s).toEqual({ build: { network: 'host' } } as never)
  })

  it('when the load profile runs, then its k6 scripts exist', () => {
    const load = Object.entries(services).filter(([, s]) => s.profiles?.includes('load'))
    expect(load.length).toBeGreaterThanOrEqual(2)
    for (const [, s] of load) {
      const script = s.command!.at(-1)!.replace('/scripts/', 'system-tests/load/k6/')
      expect(existsSync(new URL(script, root))).toBe(true)
    }
  })
})
