import { bffEnv, isolate, spawnService, type Isolated, type ServiceProcess } from '@shop/testkit'

/**
 * The front door's world: product, order and the bff in front of them, each its own process as in
 * production, on one test file's databases, key prefixes and queues. `extra` is given to all
 * three (OTLP settings, say).
 */
export async function frontDoorWorld(label: string, extra: Record<string, string> = {}) {
  const iso: Isolated = await isolate(label)
  const running: ServiceProcess[] = []
  try {
    const product = await spawnService('product', iso.env('product', extra))
    running.push(product)
    const order = await spawnService('order', iso.env('order', { ...extra, PRODUCT_URL: product.url }))
    running.push(order)
    const bff = await spawnService('bff', bffEnv({ productUrl: product.url, orderUrl: order.url }, extra))
    running.push(bff)
    return {
      iso,
      product,
      order,
      bff,
      async stop() {
        for (const p of running.reverse()) await p.stop()
        await iso.cleanup()
      },
    }
  } catch (err) {
    for (const p of running.reverse()) await p.stop()
    await iso.cleanup()
    throw err
  }
}

export type FrontDoorWorld = Awaited<ReturnType<typeof frontDoorWorld>>
