import { Elysia } from 'elysia'
import { CreateProduct, IdParams, PageQuery, Problem, Product, ProductPage, UpdateProduct } from '@shop/contracts'
import type { Products } from './products.ts'

const errors = { 400: Problem, 404: Problem, 415: Problem, 422: Problem }

/** HTTP only: shapes come from contracts/, decisions from products.ts, errors from the kit. */
export const productRoutes = (products: Products) =>
  new Elysia({ prefix: '/products', detail: { tags: ['products'] } })
    .post(
      '',
      async ({ body, set }) => {
        const product = await products.create(body)
        set.status = 201
        set.headers.location = `/products/${product.id}`
        return product
      },
      {
        body: CreateProduct,
        response: { 201: Product, 400: Problem, 415: Problem, 422: Problem },
        detail: { summary: 'Create a product', description: 'Price is an exact decimal; answers 201 with Location.' },
      },
    )
    .get('', ({ query }) => products.list(query), {
      query: PageQuery,
      response: { 200: ProductPage, 400: Problem },
      detail: { summary: 'List products', description: 'Oldest first; pass `nextCursor` back as `cursor`.' },
    })
    .get(
      '/:id',
      async ({ params, set }) => {
        const { product, hit } = await products.get(params.id)
        set.headers['x-cache'] = hit ? 'HIT' : 'MISS'
        return product
      },
      {
        params: IdParams,
        response: { 200: Product, 400: Problem, 404: Problem },
        detail: { summary: 'Get a product', description: 'Served through Redis; `X-Cache: HIT|MISS` says which.' },
      },
    )
    .patch('/:id', ({ params, body }) => products.update(params.id, body), {
      params: IdParams,
      body: UpdateProduct,
      response: { 200: Product, ...errors },
      detail: { summary: 'Change name, price or stock', description: 'Invalidates the cached product.' },
    })
    .delete(
      '/:id',
      async ({ params, set }) => {
        await products.remove(params.id)
        set.status = 204
      },
      {
        params: IdParams,
        response: { 400: Problem, 404: Problem },
        detail: { summary: 'Delete a product', description: 'Answers 204; invalidates the cached product.' },
      },
    )
