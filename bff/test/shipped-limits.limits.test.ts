import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { expectProblem } from '@shop/testkit/expect'
import { bffEnv, client, mintToken, spawnService, type ServiceProcess } from '@shop/testkit'
import { Config } from '../src/config.ts'
import { stubService, type Stub } from './stubs.ts'

// The bff's own per-caller limit as it ships (RATE_LIMIT_REQUESTS, counted in its process): the
// other bff suites raise it, as they fire bursts from one caller about something else. The bff
// runs as a process, as deployed: in a test process beside other bffs, whose suites raised the
// limit, its limit was not the shipped one.
const shipped = (Config.properties.RATE_LIMIT_REQUESTS as { default: number }).default

let product: Stub
let order: Stub
let bff: ServiceProcess
beforeAll(async () => {
  product = stubService()
  order = stubService()
  bff = await spawnService('bff', bffEnv({ productUrl: product.url, orderUrl: order.url }, {}, { limits: 'shipped' }))
})
afterAll(async () => {
  await bff.stop()
  product.stop()
  order.stop()
})

describe('the bff with its shipped limits', () => {
  it('when one caller sends more requests in a window than RATE_LIMIT_REQUESTS allows, then the rest are 429 problems with Retry-After and never reach product', async () => {
    const alice = client(bff.url, { token: await mintToken({ sub: 'alice', scope: 'orders:write' }) })
    // in rounds of 50 at a time until one is refused. The window is a wall-clock one: a boundary
    // in the middle restarts the count, at most once, so a refusal comes within twice the limit
    const replies: Awaited<ReturnType<typeof alice.get>>[] = []
    while (replies.length <= 2 * shipped && !replies.some((r) => r.status === 429))
      replies.push(...(await Promise.all(Array.from({ length: 50 }, () => alice.get('/products')))))
    const firstRefused = replies.findIndex((r) => r.status === 429)
    expect(firstRefused).toBeGreaterThanOrEqual(shipped)
    expect(replies.slice(0, firstRefused).filter((r) => r.status !== 200)).toEqual([])
    const over = replies[firstRefused]!
    expectProblem(over, 429)
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)
    // what was refused never reached product
    expect(product.seen.filter((r) => r.path.startsWith('/products')).length).toBe(replies.filter((r) => r.status === 200).length)
    // another caller has a window of its own
    const bob = client(bff.url, { token: await mintToken({ sub: 'bob', scope: 'orders:write' }) })
    expect((await bob.get('/products')).status).toBe(200)
  })
})
