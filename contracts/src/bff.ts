import { Type as t, type Static } from '@sinclair/typebox'
import { PageQuery, Uuid } from './common.ts'
import { Order, ProductIdParams } from './order.ts'
import { Product } from './product.ts'

/**
 * The bff's own answer: the seed's `GET /order-summary/:productId`, a product with its orders,
 * put together from product's and order's answers. Everything else the bff serves is product's
 * and order's, forwarded as they answer it.
 */

/** The product as the seed's summary showed it: its stock under the seed's name. */
export const SummaryProduct = t.Object({
  id: Product.properties.id,
  name: Product.properties.name,
  price: Product.properties.price,
  currentStock: t.Integer({ minimum: 0, description: "units in stock (product's `qty`)", examples: [8] }),
})

/** A part of the summary that could not be had: its field is null. */
export const SummaryPart = t.Union([t.Literal('orders'), t.Literal('totalOrders')], {
  description:
    '`orders`: order did not answer (`orders`, `nextCursor` and `totalOrders` are null); `totalOrders`: order answered a page ' +
    'without its `total` (a release from before it, met during a rollout), so the count is not known',
})

export const OrderSummary = t.Object(
  {
    product: SummaryProduct,
    orders: t.Union([t.Array(Order), t.Null()], {
      description: "a page of the product's orders, oldest first (`limit` and `cursor` as for `GET /orders/product/{productId}`); null when order did not answer",
    }),
    nextCursor: t.Union([Uuid, t.Null()], { description: 'pass as `cursor` for the next page; null on the last one (or when `orders` is null)' }),
    totalOrders: t.Union([t.Integer({ minimum: 0 }), t.Null()], {
      description: "how many orders the product has, on any page: order's `total` for the page; null when it is not known (`partial` says why)",
      examples: [3],
    }),
    partial: t.Optional(t.Array(SummaryPart, { minItems: 1, uniqueItems: true, description: 'present when a part is missing; the answer also carries `X-Partial`' })),
  },
  { description: 'A product with its orders, as the seed API answered it, plus the page cursor and what is missing' },
)

export const OrderSummaryParams = ProductIdParams
export const OrderSummaryQuery = PageQuery

export type SummaryPart = Static<typeof SummaryPart>
export type OrderSummary = Static<typeof OrderSummary>
