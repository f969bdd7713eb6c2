import { Type as t, type Static } from '@sinclair/typebox'
import { Money, MoneyInput, pageOf, Qty, Text, Timestamp, Uuid } from './common.ts'

const Name = Text({ minLength: 1, maxLength: 200, examples: ['Coffee beans 1kg'] })

export const Product = t.Object({
  id: Uuid,
  name: Name,
  price: Money,
  qty: t.Integer({ minimum: 0, description: 'units in stock' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})

export const CreateProduct = t.Object(
  { name: Name, price: MoneyInput, qty: Qty },
  { additionalProperties: false, examples: [{ name: 'Coffee beans 1kg', price: '19.99', qty: 10 }] },
)

export const UpdateProduct = t.Object(
  { name: t.Optional(Name), price: t.Optional(MoneyInput), qty: t.Optional(Qty) },
  { additionalProperties: false, minProperties: 1, examples: [{ price: '17.49', qty: 25 }] },
)

export const ProductPage = pageOf(Product)

export type Product = Static<typeof Product>
export type CreateProduct = Static<typeof CreateProduct>
export type UpdateProduct = Static<typeof UpdateProduct>
export type ProductPage = Static<typeof ProductPage>
