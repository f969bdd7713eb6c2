import type { Bus } from '@shop/kit'
import type { Products } from './products.ts'
import type { productEvents } from './manifest.ts'

/** product listens to the order side of the saga; its answers leave through the outbox. */
export function consumeOrderEvents({ bus, products, queue, prefetch }: { bus: Bus<typeof productEvents>; products: Products; queue: string; prefetch: number }) {
  return bus.consume({
    queue,
    prefetch,
    async handle(m) {
      if (m.routingKey === 'order.created') await products.takeStock(m.event, m.headers)
      else await products.releaseStock(m.event, m.headers)
    },
    // under load, orders arrive in bursts: take their stock in one transaction
    batch: { size: Math.max(1, Math.floor(prefetch / 2)), waitMs: 5 },
    async handleBatch(messages) {
      await products.takeStockTogether(messages.flatMap((m) => (m.routingKey === 'order.created' ? [{ event: m.event, headers: m.headers }] : [])))
      for (const m of messages) if (m.routingKey === 'order.cancelled') await products.releaseStock(m.event, m.headers)
    },
  })
}
