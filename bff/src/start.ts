import { connectHttpService } from '@shop/kit'
import { createApp } from './app.ts'
import { createForwarder } from './forward.ts'
import type { BffConfig } from './config.ts'
import { manifest } from './manifest.ts'
import { createOrderSummary } from './order-summary.ts'
import { answers, upstream } from './upstream.ts'

/**
 * Wires the bff onto the kit's light start (no database, cache or broker: there is nothing to
 * connect) and returns the app ready to be served by whichever runtime (main.ts on Bun or Deno,
 * the testkit in tests). `/ready` reports whether product and order answer.
 */
export async function startBff(config: BffConfig, { web }: { web?: string } = {}) {
  const platform = connectHttpService(manifest, config, { checks: { product: answers(config.productUrl), order: answers(config.orderUrl) } })
  const to = (name: string, baseUrl: string) => upstream({ name, baseUrl, timeoutMs: config.upstreamTimeoutMs, log: platform.log, tracing: platform.tracing })
  const product = to('product', config.productUrl)
  const order = to('order', config.orderUrl)
  const summarize = createOrderSummary({ product, order, log: platform.log })
  const forwarder = createForwarder()
  return {
    ...platform,
    app: createApp({ summarize, forwarder, product, order, platform, web }),
    /** on SIGTERM: the event streams it forwards end first, so callers reconnect elsewhere */
    endStreams: forwarder.endStreams,
  }
}
