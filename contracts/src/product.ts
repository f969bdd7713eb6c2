import { Type as t, type Static } from '@sinclair/typebox'
import { Money, MoneyInput, pageOf, Qty, Text, Timestamp, Uuid } from './common.ts'

const Name = Text({ minLength: 1, maxLength: 200, examples: ['Coffee beans 1kg'] })

export const Product = t.Object({
  id: Uuid,
  name: Name,
  price: Money,
  qty: t.Integer({ minimum: 0, description: 'units in stock' }),
  version: t.Integer({
    minimum: 1,
    description:
      'grows with every change of the product, stock included (an order taking stock, a cancel giving it back); ' +
      'the ETag is this number in quotes (`"3"`), for If-None-Match and If-Match',
    examples: [3],
  }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})

export const CreateProduct = t.Object(
  { name: Name, price: MoneyInput, qty: Qty },
  { additionalProperties: false, examples: [{ name: 'Coffee beans 1kg', price: '19.99', qty: 10 }] },
)

/** A change of stock relative to what it is when the change lands: orders taking stock meanwhile are kept. */
export const QtyDelta = t.Union([t.Integer({ minimum: -1_000_000_000, maximum: -1 }), t.Integer({ minimum: 1, maximum: 1_000_000_000 })], {
  description:
    'units to add (or, negative, to remove) atomically: `qty = qty + qtyDelta` at the moment of the change, so stock ' +
    'orders took meanwhile is never overwritten; refused (409) when it would take the stock below 0. Not with `qty`.',
  error: 'must be a whole number from -1000000000 to 1000000000, not 0',
  examples: [5],
})

export const UpdateProduct = t.Object(
  {
    name: t.Optional(Name),
    price: t.Optional(MoneyInput),
    qty: t.Optional(
      t.Integer({
        ...Qty,
        description: 'the stock, set absolutely: send it with If-Match, or a stock change made since your read is overwritten',
      }),
    ),
    qtyDelta: t.Optional(QtyDelta),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ price: '17.49', qtyDelta: 5 }] },
)

const entityTags = (description: string, example: string) =>
  t.Optional(t.String({ maxLength: 1000, description: `${description}. \`*\`, or ETags separated by commas (\`"3"\`, \`W/"2", "3"\`).`, examples: [example] }))

/** GET a product only when it changed: the client's copy still current gets a 304 without a body. */
export const IfNoneMatchHeaders = t.Object({
  'if-none-match': entityTags('The ETags of the copies the client holds (weak comparison): when one is current, 304 without a body', '"7"'),
})

/** Change or delete a product only as the client last saw it: any other version gets a 412 and nothing is written. */
export const IfMatchHeaders = t.Object({
  'if-match': entityTags(
    'Write only if the product is still at one of these versions (strong comparison; `*`: any that exists), else 412 and nothing is written',
    '*',
  ),
})

export const ProductPage = pageOf(Product)

export type Product = Static<typeof Product>
export type CreateProduct = Static<typeof CreateProduct>
export type UpdateProduct = Static<typeof UpdateProduct>
export type ProductPage = Static<typeof ProductPage>
