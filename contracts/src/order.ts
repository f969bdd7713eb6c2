import { Type as t, type Static } from '@sinclair/typebox'
import { CustomerId, Money, MoneyInput, pageOf, PositiveQty, Timestamp, Uuid } from './common.ts'
import { StockRejectionReason } from './events.ts'

/** pending -> confirmed | rejected (decided by product's stock); confirmed -> cancelled. */
export const OrderStatus = t.Union([t.Literal('pending'), t.Literal('confirmed'), t.Literal('rejected'), t.Literal('cancelled')], {
  examples: ['pending'],
})

export const Order = t.Object({
  id: Uuid,
  productId: Uuid,
  customerId: t.Union([CustomerId, t.Null()], { description: 'the `sub` of the token that placed it; null when AUTH=off' }),
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
  { additionalProperties: false, examples: [{ productId: '0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24', qty: 2, price: '19.99' }] },
)

export const CreateOrderHeaders = t.Object({
  'idempotency-key': t.Optional(
    t.String({
      minLength: 1,
      maxLength: 200,
      description:
        'Makes retries safe: a request with a key seen in the last 24 h and the same body gets the first answer again ' +
        '(201, `Idempotent-Replayed: true`) and places no second order; the same key with another body is refused (422).',
      examples: ['5b0c1f8e-2c1d-4b7a-9a53-0d0e4f1a2b3c'],
    }),
  ),
})

export const ProductIdParams = t.Object({ productId: Uuid })

/** A keyset page of a product's orders, with how many the product has in all (its pages do not say). */
export const OrderPage = t.Object({
  ...pageOf(Order).properties,
  total: t.Integer({
    minimum: 0,
    description:
      'how many orders the product has, on every page the same: all of them, not those on this page or after the cursor ' +
      '(counted in the same read as the page)',
    examples: [3],
  }),
})

export type OrderStatus = Static<typeof OrderStatus>
export type Order = Static<typeof Order>
export type CreateOrder = Static<typeof CreateOrder>
export type OrderPage = Static<typeof OrderPage>
