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
  })
}
