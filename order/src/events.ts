import type { Bus } from '@shop/kit'
import type { StockRejected, StockReserved } from '@shop/contracts'
import type { Orders } from './orders.ts'

/** order listens to product's answers and settles its pending orders. */
export const consumeStockEvents = (bus: Bus, orders: Orders, queue: string, prefetch: number) =>
  bus.consume({
    queue,
    prefetch,
    events: ['stock.reserved', 'stock.rejected'],
    handle: ({ event, headers }) => orders.settle(event as StockReserved | StockRejected, headers),
    batch: { size: Math.max(1, Math.floor(prefetch / 2)), waitMs: 5 },
    handleBatch: (messages) =>
      orders.settleTogether(messages.map((m) => ({ event: m.event as StockReserved | StockRejected, headers: m.headers }))),
  })
