import { describe, expect, it } from 'bun:test'
import { loadConfig } from '../src/config.ts'

// the bff's configuration, read through the kit's readEnv and httpServiceEnv
describe("the bff's configuration", () => {
  it('when nothing is set, then it listens on 5000 in front of the local product and order, waiting 5 s for each', () => {
    const c = loadConfig({ JWT_PUBLIC_KEY: 'k' })
    expect({ port: c.port, productUrl: c.productUrl, orderUrl: c.orderUrl, upstreamTimeoutMs: c.upstreamTimeoutMs }).toEqual({
      port: 5000,
      productUrl: 'http://127.0.0.1:3000',
      orderUrl: 'http://127.0.0.1:8080',
      upstreamTimeoutMs: 5000,
    })
    expect(c.limits.perWindow.requests).toBe(6000)
    expect(c.auth.enabled).toBe(true)
  })

  it('when PORT and the URLs are set, then they are taken, a trailing slash dropped', () => {
    const c = loadConfig({ PORT: '5001', PRODUCT_URL: 'http://product:3000/', ORDER_URL: 'http://order:8080', UPSTREAM_TIMEOUT_MS: '250' })
    expect([c.port, c.productUrl, c.orderUrl, c.upstreamTimeoutMs]).toEqual([5001, 'http://product:3000', 'http://order:8080', 250])
  })

  it('when a value is bad, then the start fails naming each one', () => {
    expect(() => loadConfig({ PORT: 'five thousand', UPSTREAM_TIMEOUT_MS: '0' })).toThrow(/PORT.*UPSTREAM_TIMEOUT_MS|UPSTREAM_TIMEOUT_MS.*PORT/)
  })

  it('when a variable of a service with a database is set, then the bff does not read it', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://x', REDIS_URL: 'redis://x' })).not.toHaveProperty('databaseUrl')
  })
})
