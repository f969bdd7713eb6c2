import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bffEnv, bootInProcess, freePort, isolate, spawnService, stockIn, type ServiceProcess } from '@shop/testkit'
import { loadConfig as productConfig } from '@shop/product/config'
import { startProduct } from '@shop/product/start'
import { loadConfig as orderConfig } from '@shop/order/config'
import { startOrder } from '@shop/order/start'

/**
 * The storefront's world: product and order on this file's own databases and queues, in this
 * process (so a test can hold order's outbox relay, and stop order and start it again on the same
 * port), and the bff in front of them as a process, serving the storefront built into
 * bff/web/dist as `bun run start` serves it.
 */
const root = fileURLToPath(new URL('../../', import.meta.url))
export const distDir = join(root, 'bff/web/dist')

/** Builds the storefront as a developer does: `bun bff/web/build.ts`. */
export function buildStorefront() {
  const run = Bun.spawnSync([process.execPath, 'bff/web/build.ts'], { cwd: root, stdout: 'pipe', stderr: 'pipe' })
  if (run.exitCode !== 0) throw new Error(`the storefront did not build:\n${run.stderr.toString()}`)
  return run.stdout.toString()
}

type OrderService = Awaited<ReturnType<typeof startOrder>> & { endStreams?(): void }

export async function storefrontWorld() {
  const iso = await isolate('storefront')
  const product = await bootInProcess(() => startProduct(productConfig(iso.env('product'))))
  const orderPort = await freePort()
  const orderUrl = `http://127.0.0.1:${orderPort}`
  const orderEnv = iso.env('order', { PRODUCT_URL: product.url })

  let order: OrderService | undefined
  /** order on its port, as a restarted deployment comes back at the same address */
  async function startOrderService() {
    const service: OrderService = await startOrder(orderConfig(orderEnv))
    service.app.listen(orderPort)
    order = service
  }
  async function stopOrderService() {
    const service = order
    order = undefined
    service?.endStreams?.() // the open event streams end, as on SIGTERM
    await service?.app.stop()
    await service?.stop()
  }
  await startOrderService()

  const front: ServiceProcess = await spawnService('bff', bffEnv({ productUrl: product.url, orderUrl }))

  return {
    iso,
    url: front.url,
    orderDb: iso.db('order'),
    stockOf: (productId: string) => stockIn(iso.db('product'), productId),
    /** order's outbox relay: held, orders are accepted (pending) but product hears of none */
    relay: () => {
      if (!order) throw new Error('order is stopped')
      return order.relay
    },
    startOrder: startOrderService,
    stopOrder: stopOrderService,
    async stop() {
      await front.stop()
      await stopOrderService()
      await product.stop()
      await iso.cleanup()
    },
  }
}

export type StorefrontWorld = Awaited<ReturnType<typeof storefrontWorld>>
