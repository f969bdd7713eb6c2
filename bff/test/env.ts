import { bffEnv, bootInProcess, client, spawnService, type Runtime } from '@shop/testkit'
import { loadConfig } from '../src/config.ts'
import { startBff } from '../src/start.ts'
import { stubService } from './stubs.ts'

/** The bff alone, on the runtime asked for: in this process on Bun (`service` reaches it), a child process on Deno. */
export async function bootBff(env: Record<string, string>, runtime: Runtime = 'bun', options: { web?: string } = {}) {
  if (runtime === 'bun') return bootInProcess(() => startBff(loadConfig(env), options))
  const child = await spawnService('bff', env, { runtime })
  return { url: child.url, service: undefined, stop: async () => void (await child.stop()) }
}

/**
 * One test file's world: the bff in front of two stand-ins for product and order, which record
 * what reaches them and answer as each test says. The bff's own suites need no database: what it
 * does is what it sends on and what it answers back (system-tests/bff runs it before the real services).
 */
export async function bffWorld(runtime: Runtime = 'bun', extra: Record<string, string> = {}) {
  const product = stubService()
  const order = stubService()
  const env = bffEnv({ productUrl: product.url, orderUrl: order.url }, extra)
  const bff = await bootBff(env, runtime)
  return {
    product,
    order,
    env,
    api: client(bff.url),
    url: bff.url,
    async stop() {
      await bff.stop()
      product.stop()
      order.stop()
    },
  }
}

export type BffWorld = Awaited<ReturnType<typeof bffWorld>>
