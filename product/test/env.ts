import { bootInProcess, client, isolate } from '@shop/harness'
import { loadConfig } from '../src/config.ts'
import { startProduct } from '../src/start.ts'

/** One test file's world: its own database, key prefix and queues, and product serving on them. */
export async function productWorld(extraEnv: Record<string, string> = {}) {
  const iso = await isolate('product')
  const running = await bootInProcess(() => startProduct(loadConfig(iso.env('product', extraEnv))))
  return {
    iso,
    api: client(running.url),
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
