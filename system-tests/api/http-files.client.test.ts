import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { bffEnv, eventually, mintToken, spawnService } from '@shop/testkit'
import { shopWorld, type ShopWorld } from '../worlds.ts'

// the REST client files users open in their editor, run by httpyac (the CLI of the VS Code
// extension of the same name, which reads JetBrains' HTTP Client format) against booted services
const httpDir = join(import.meta.dir, '../../http')
const httpyac = join(import.meta.dir, '../node_modules/.bin/httpyac')

type Run = {
  requests: { title?: string; name?: string; response?: { statusCode: number; body: string } }[]
  summary: { totalRequests: number; failedRequests: number; erroredRequests: number; totalTests: number; successTests: number }
}

let w: ShopWorld
beforeAll(async () => (w = await shopWorld()))
afterAll(() => w.stop())

async function send(files: string[], vars: Record<string, string> = {}): Promise<Run> {
  const tokens = {
    staffToken: await mintToken({ sub: 'staff-1', scope: 'products:write orders:read' }),
    customerToken: await mintToken({ sub: 'customer-1', scope: 'orders:write' }),
  }
  const args = Object.entries({ product: w.products.base, order: w.orders.base, ...tokens, ...vars }).flatMap(([k, v]) => ['--var', `${k}=${v}`])
  const proc = Bun.spawn([httpyac, 'send', ...files, '--all', '--json', '--env', 'local', ...args], { cwd: httpDir, stdout: 'pipe', stderr: 'pipe' })
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  try {
    return JSON.parse(out)
  } catch {
    throw new Error(`httpyac printed no JSON:\n${out}\n${err}`)
  }
}

const passedAll = (run: Run, tests: number) =>
  expect(run.summary).toMatchObject({ failedRequests: 0, erroredRequests: 0, totalTests: tests, successTests: tests })

describe('the http/*.http files', () => {
  it('when shop.http and then cancel.http are sent, then every check in them passes and the order goes confirmed -> cancelled', async () => {
    const shop = await send(['shop.http'])
    passedAll(shop, 9)
    const placed = JSON.parse(shop.requests.find((r) => r.name === 'placeOrder')!.response!.body)
    const confirmed = await eventually(async () => {
      const { body } = await w.orders.get(`/orders/${placed.id}`)
      return body.status === 'confirmed' && body
    }, { what: 'the order placed by shop.http confirmed' })
    expect(await w.stockOf(confirmed.productId)).toBe(13) // 10, set to 12 with If-Match, 3 added, 2 ordered

    const cancel = await send(['cancel.http'], { orderId: placed.id, productId: placed.productId })
    passedAll(cancel, 2)
    await eventually(async () => (await w.stockOf(placed.productId)) === 15, { what: 'the stock put back' })
  }, 30_000)

  it("when errors.http is sent, then each client mistake gets the 4xx problem it promises, never a 5xx", async () => {
    const run = await send(['errors.http'])
    passedAll(run, 12)
    expect(run.requests.map((r) => r.response?.statusCode).filter((s) => !s || s >= 500)).toEqual([])
  }, 30_000)

  it("when bff.http is sent to a bff in front of the services, then the seed's requests and the timeline pass every check and the order goes confirmed", async () => {
    // a process, as in production (and system-tests/bff), in front of this world's product and order
    const bff = await spawnService('bff', bffEnv({ productUrl: w.products.base, orderUrl: w.orders.base }))
    try {
      // product and order named where nothing answers: every request of the file goes through the bff
      const nowhere = 'http://127.0.0.1:1'
      const run = await send(['bff.http'], { bff: bff.url, product: nowhere, order: nowhere })
      passedAll(run, 5)
      const placed = JSON.parse(run.requests.find((r) => r.name === 'placeOrder')!.response!.body)
      await eventually(async () => (await w.orders.get(`/orders/${placed.id}`)).body.status === 'confirmed', { what: 'the order placed by bff.http confirmed' })
      expect(await w.stockOf(placed.productId)).toBe(8) // 10, 2 ordered
    } finally {
      await bff.stop()
    }
  }, 30_000)
})
