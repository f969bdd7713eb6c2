import type { Bus } from '@shop/kit'
import type { Orders } from './orders.ts'
import type { orderEvents } from './manifest.ts'

/** order listens to product's answers and settles its pending orders; a cancelled order's stock coming back is a step of it. */
export const consumeStockEvents = ({ bus, orders, queue, prefetch }: { bus: Bus<typeof orderEvents>; orders: Orders; queue: string; prefetch: number }) =>
  bus.consume({
    queue,
    prefetch,
    handle: (m) => (m.routingKey === 'stock.released' ? orders.stockReleased([m.event]) : orders.settle(m.event, m.headers)),
    batch: { size: Math.max(1, Math.floor(prefetch / 2)), waitMs: 5 },
    async handleBatch(messages) {
      const answers = messages.flatMap((m) => (m.routingKey === 'stock.released' ? [] : [{ event: m.event, headers: m.headers }]))
      const released = messages.flatMap((m) => (m.routingKey === 'stock.released' ? [m.event] : []))
      if (answers.length) await orders.settleTogether(answers)
      if (released.length) await orders.stockReleased(released)
    },
  })
