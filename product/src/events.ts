import type { Bus } from '@shop/kit'
import type { OrderCancelled, OrderCreated } from '@shop/contracts'
import type { Products } from './products.ts'

/** product listens to the order side of the saga; its answers leave through the outbox. */
export function consumeOrderEvents(bus: Bus, products: Products, queue: string, prefetch: number) {
  return bus.consume({
    queue,
    prefetch,
    events: ['order.created', 'order.cancelled'],
    async handle({ routingKey, event, headers }) {
      if (routingKey === 'order.created') await products.takeStock(event as OrderCreated, headers)
      else await products.releaseStock(event as OrderCancelled, headers)
    },
    // under load, orders arrive in bursts: take their stock in one transaction
    batch: { size: Math.max(1, Math.floor(prefetch / 2)), waitMs: 5 },
    async handleBatch(messages) {
      const created = messages.filter((m) => m.routingKey === 'order.created')
      await products.takeStockTogether(created.map((m) => ({ event: m.event as OrderCreated, headers: m.headers })))
      for (const m of messages) if (m.routingKey === 'order.cancelled') await products.releaseStock(m.event as OrderCancelled, m.headers)
    },
  })
}
