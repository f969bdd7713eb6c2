import { Type as t, type Static, type TObject, type TProperties } from '@sinclair/typebox'
import { PositiveQty, Timestamp, Uuid } from './common.ts'

/**
 * Every event carries its own id (consumers deduplicate on it), when it happened and the
 * version of its shape. A breaking change gets version 2 next to version 1, never an edit.
 */
const event = <P extends TProperties>(type: string, props: P) =>
  t.Object(
    { eventId: Uuid, occurredAt: Timestamp, version: t.Literal(1), ...props },
    { $id: `${type}.v1`, additionalProperties: true },
  )

export const OrderCreated = event('order.created', { orderId: Uuid, productId: Uuid, qty: PositiveQty })

export const StockReserved = event('stock.reserved', { orderId: Uuid, productId: Uuid, qty: PositiveQty })

export const StockRejectionReason = t.Union([t.Literal('insufficient_stock'), t.Literal('product_not_found')])
export const StockRejected = event('stock.rejected', {
  orderId: Uuid,
  productId: Uuid,
  qty: PositiveQty,
  reason: StockRejectionReason,
})

export const OrderCancelled = event('order.cancelled', { orderId: Uuid, productId: Uuid, qty: PositiveQty })

/** Routing key -> payload schema: the whole event vocabulary of the shop. */
export const Events = {
  'order.created': OrderCreated,
  'order.cancelled': OrderCancelled,
  'stock.reserved': StockReserved,
  'stock.rejected': StockRejected,
} satisfies Record<string, TObject>

export type EventName = keyof typeof Events
export type EventOf<K extends EventName> = Static<(typeof Events)[K]>
export type OrderCreated = Static<typeof OrderCreated>
export type StockReserved = Static<typeof StockReserved>
export type StockRejected = Static<typeof StockRejected>
export type OrderCancelled = Static<typeof OrderCancelled>
export type StockRejectionReason = Static<typeof StockRejectionReason>
