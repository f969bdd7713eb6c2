import { bootOn, isolate, shopWorldAround, spawnService, type Isolated, type Runtime } from '@shop/testkit'
import { loadConfig } from '../src/config.ts'
import { startOrder } from '../src/start.ts'

export function bootOrder(iso: Isolated, productUrl: string, extra: Record<string, string> = {}, runtime: Runtime = 'bun') {
  const env = iso.env('order', { PRODUCT_URL: productUrl, ...extra })
  return bootOn(runtime, 'order', env, () => startOrder(loadConfig(env)))
}

/**
 * One test file's world for order's own suites: order on its own database, key prefix and queues,
 * and beside it a real product for the check order makes and the stock answers that settle an
 * order. product runs as a process, the way production runs it (order's tests never import
 * product; the suites about both services are in system-tests/). On Bun order runs in this
 * process (`inside()` reaches it); on Deno both are child processes.
 */
export async function orderWorld(runtime: Runtime = 'bun') {
  const iso = await isolate('order')
  const product = await spawnService('product', iso.env('product'), { runtime })
  const order = await bootOrder(iso, product.url, {}, runtime).catch(async (err) => {
    await product.stop()
    throw err
  })
  return shopWorldAround({ iso, product, order })
}

export type OrderWorld = Awaited<ReturnType<typeof orderWorld>>
