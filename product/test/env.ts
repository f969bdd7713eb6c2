import { bootInProcess, bootOn, captureEvents, client, isolate, tcpProxy, type Runtime } from '@shop/testkit'
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

/** A product world and a probe that sees every stock answer product publishes. */
export async function productWorldWithAnswers() {
  const world = await productWorld()
  return { world, answers: await captureEvents(world.iso, ['stock.reserved', 'stock.rejected']) }
}
export type StockAnswers = Awaited<ReturnType<typeof productWorldWithAnswers>>['answers']

let n = 0
/** A valid create body; every call a new name so failures point at the right row. */
export const newProduct = (over: Record<string, unknown> = {}) => ({ name: `product ${++n}`, price: '12.50', qty: 10, ...over })

/**
 * product on its own world, reaching PostgreSQL through a TCP hop the test can cut (`db.cut()`)
 * and restore, as a database restart would.
 */
export async function productBehindDbHop(label: string, extra: Record<string, string> = {}) {
  const iso = await isolate(label)
  const env = iso.env('product', extra)
  const db = await tcpProxy(env.DATABASE_URL!)
  const running = await bootInProcess(() => startProduct(loadConfig({ ...env, DATABASE_URL: db.through(env.DATABASE_URL!) })))
  return {
    iso,
    db,
    api: client(running.url),
    async stop() {
      await db.restore().catch(() => {})
      await running.stop()
      await db.close()
      await iso.cleanup()
    },
  }
}
