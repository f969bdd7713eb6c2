import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { expectProblem } from '@shop/testkit/expect'
import { bffEnv, client, mintToken } from '@shop/testkit'
import { Config } from '../src/config.ts'
import { bootBff } from './env.ts'
import { stubService, type Stub } from './stubs.ts'

// The bff's own per-caller limit as it ships (RATE_LIMIT_REQUESTS, counted in this process): the
// other bff suites raise it, as they fire bursts from one caller about something else.
const shipped = (Config.properties.RATE_LIMIT_REQUESTS as { default: number }).default

let product: Stub
let order: Stub
let bff: Awaited<ReturnType<typeof bootBff>>
beforeAll(async () => {
  product = stubService()
  order = stubService()
  bff = await bootBff(bffEnv({ productUrl: product.url, orderUrl: order.url }, {}, { limits: 'shipped' }))
})
afterAll(async () => {
  await bff.stop()
  product.stop()
  order.stop()
})

describe('the bff with its shipped limits', () => {
  it('when one caller sends more requests in a window than RATE_LIMIT_REQUESTS allows, then the rest are 429 problems with Retry-After and never reach product', async () => {
    const alice = client(bff.url, { token: await mintToken({ sub: 'alice', scope: 'orders:write' }) })
    const statuses: number[] = []
    // in rounds of 50 at a time: the shipped limit, every request of it answered
    for (let sent = 0; sent < shipped; sent += 50)
      statuses.push(...(await Promise.all(Array.from({ length: Math.min(50, shipped - sent) }, () => alice.get('/products')))).map((r) => r.status))
    expect(statuses.filter((s) => s !== 200)).toEqual([])
    const reached = product.seen.length
    expect(reached).toBe(shipped)
    const over = await alice.get('/products')
    expectProblem(over, 429)
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(product.seen.length).toBe(reached)
    // another caller has a window of its own
    const bob = client(bff.url, { token: await mintToken({ sub: 'bob', scope: 'orders:write' }) })
    expect((await bob.get('/products')).status).toBe(200)
  })
})
