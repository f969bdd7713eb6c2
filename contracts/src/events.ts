import { Type as t, type Static, type TObject, type TProperties } from '@sinclair/typebox'
import { CustomerId, PositiveQty, Timestamp, Uuid } from './common.ts'

/**
 * Every event carries its own id (consumers deduplicate on it), when it happened and the
 * version of its shape. A breaking change gets version 2 next to version 1, never an edit.
 */
const event = <P extends TProperties>(type: string, description: string, props: P) =>
  t.Object(
    { eventId: Uuid, occurredAt: Timestamp, version: t.Literal(1), ...props },
    { $id: `${type}.v1`, additionalProperties: true, description },
  )

/** AMQP headers every event carries; `messageId` is the eventId, `type` the routing key. */
export const EventHeaders = t.Object(
  { 'x-request-id': t.Optional(t.String({ description: 'id of the HTTP request that caused the event', examples: ['0b6f7c1e-2f0a-4c4e-9d7e-1f2a3b4c5d6e'] })) },
  { additionalProperties: true },
)

export const OrderCreated = event('order.created', 'order sends it when an order was placed (pending): product takes the stock', {
  orderId: Uuid,
  productId: Uuid,
  qty: PositiveQty,
  customerId: t.Optional(t.Union([CustomerId, t.Null()], { description: 'who placed it (absent in events from before auth)' })),
})

export const StockReserved = event('stock.reserved', "product sends it when it took the order's stock: order confirms it", {
  orderId: Uuid,
  productId: Uuid,
  qty: PositiveQty,
})

export const StockRejectionReason = t.Union([t.Literal('insufficient_stock'), t.Literal('product_not_found')])
export const StockRejected = event('stock.rejected', 'product sends it when it could not take the stock: order rejects it', {
  orderId: Uuid,
  productId: Uuid,
  qty: PositiveQty,
  reason: StockRejectionReason,
})

export const OrderCancelled = event('order.cancelled', 'order sends it when a confirmed order was cancelled: product puts the stock back', {
  orderId: Uuid,
  productId: Uuid,
  qty: PositiveQty,
})

export const StockReleased = event('stock.released', "product sends it when it gave a cancelled order's stock back: order records it", {
  orderId: Uuid,
  productId: Uuid,
  qty: PositiveQty,
})

/** Routing key -> payload schema: the whole event vocabulary of the shop. */
export const Events = {
  'order.created': OrderCreated,
  'order.cancelled': OrderCancelled,
  'stock.reserved': StockReserved,
  'stock.rejected': StockRejected,
  'stock.released': StockReleased,
} satisfies Record<string, TObject>

export type EventName = keyof typeof Events
export type EventOf<K extends EventName> = Static<(typeof Events)[K]>
export type OrderCreated = Static<typeof OrderCreated>
export type StockReserved = Static<typeof StockReserved>
export type StockRejected = Static<typeof StockRejected>
export type OrderCancelled = Static<typeof OrderCancelled>
export type StockReleased = Static<typeof StockReleased>
export type StockRejectionReason = Static<typeof StockRejectionReason>
