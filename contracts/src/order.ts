import { Type as t, type Static } from '@sinclair/typebox'
import { Money, MoneyInput, pageOf, PositiveQty, Timestamp, Uuid } from './common.ts'
import { StockRejectionReason } from './events.ts'

/** pending -> confirmed | rejected (decided by product's stock); confirmed -> cancelled. */
export const OrderStatus = t.Union([t.Literal('pending'), t.Literal('confirmed'), t.Literal('rejected'), t.Literal('cancelled')], {
  examples: ['pending'],
})

export const Order = t.Object({
  id: Uuid,
  productId: Uuid,
  qty: PositiveQty,
  unitPrice: Money,
  totalPrice: t.String({ pattern: '^[0-9]+\\.[0-9]{2}$', description: 'unitPrice x qty, computed by the server', examples: ['39.98'] }),
  status: OrderStatus,
  rejectionReason: t.Union([StockRejectionReason, t.Null()]),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})

export const CreateOrder = t.Object(
  {
    productId: Uuid,
    qty: PositiveQty,
    price: t.Optional(
      t.Union(MoneyInput.anyOf, {
        description: 'the unit price the client saw; when it differs from the current one the order is refused (409)',
        examples: ['19.99'],
      }),
    ),
  },
  { additionalProperties: false },
)

export const CreateOrderHeaders = t.Object({
  'idempotency-key': t.Optional(
    t.String({ minLength: 1, maxLength: 200, description: 'retries with the same key and body return the first order (24 h)' }),
  ),
})

export const ProductIdParams = t.Object({ productId: Uuid })

export const OrderPage = pageOf(Order)

export type OrderStatus = Static<typeof OrderStatus>
export type Order = Static<typeof Order>
export type CreateOrder = Static<typeof CreateOrder>
export type OrderPage = Static<typeof OrderPage>
