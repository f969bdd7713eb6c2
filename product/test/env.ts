import { bootOn, client, isolate, type Runtime } from '@shop/harness'
import { loadConfig } from '../src/config.ts'
import { startProduct } from '../src/start.ts'

/** One test file's world: its own database, key prefix and queues, and product serving on them. */
export async function productWorld(runtime: Runtime = 'bun') {
  const iso = await isolate('product')
  const env = iso.env('product')
  const running = await bootOn(runtime, 'product', env, () => startProduct(loadConfig(env)))
  return {
    iso,
    api: client(running.url),
    /** the in-process service (on Bun only) */
    service: running.service,
    db: iso.db('product'),
    async stop() {
      await running.stop()
      await iso.cleanup()
    },
  }
}

export type ProductWorld = Awaited<ReturnType<typeof productWorld>>

let n = 0
/** A valid create body; every call a new name so failures point at the right row. */
export const newProduct = (over: Record<string, unknown> = {}) => ({ name: `product ${++n}`, price: '12.50', qty: 10, ...over })
