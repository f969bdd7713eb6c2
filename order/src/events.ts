import type { Bus } from '@shop/kit'
import type { Orders } from './orders.ts'
import type { orderEvents } from './manifest.ts'

/** order listens to product's answers and settles its pending orders. */
export const consumeStockEvents = ({ bus, orders, queue, prefetch }: { bus: Bus<typeof orderEvents>; orders: Orders; queue: string; prefetch: number }) =>
  bus.consume({
    queue,
    prefetch,
    handle: ({ event, headers }) => orders.settle(event, headers),
    batch: { size: Math.max(1, Math.floor(prefetch / 2)), waitMs: 5 },
    handleBatch: (messages) => orders.settleTogether(messages.map(({ event, headers }) => ({ event, headers }))),
  })
