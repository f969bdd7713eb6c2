import { Elysia } from 'elysia'
import { CreateProduct, IdParams, PageQuery, Problem, Product, ProductPage, UpdateProduct, ValidationProblem } from '@shop/contracts'
import { described, type Access, type AppBase } from '@shop/kit'
import type { Products } from './products.ts'

const tags = ['products']
const anyone: Access = { limit: 'reads' }
const staff: Access = { scopes: ['products:write'], limit: 'writes' }
// every route reads or writes PostgreSQL: while it is away the answer is 503 with Retry-After
const failures = { 400: ValidationProblem, 503: Problem }
// (413 and 415 for a body, 401/403/429 for the access rule: the kit documents those itself)
const writeFailures = { ...failures, 422: Problem }
const notANumber = { 422: { description: 'A JSON number `price` with more than 2 fraction digits' } }

/** HTTP only: shapes come from contracts/, decisions from products.ts, errors from the kit. */
export const productRoutes = (products: Products, guard: AppBase['access']) =>
  new Elysia({ prefix: '/products' })
    .use(guard)
    .post(
      '',
      async ({ body, set }) => {
        const product = await products.create(body)
        set.status = 201
        set.headers.location = `/products/${product.id}`
        return product
      },
      {
        access: staff,
        body: CreateProduct,
        response: { 201: Product, ...writeFailures },
        detail: {
          operationId: 'createProduct',
          tags,
          summary: 'Create a product',
          description: 'Price is an exact decimal (string, or a JSON number with at most 2 fraction digits).',
          responses: notANumber,
        },
      },
    )
    .get('', ({ query }) => products.list(query), {
      access: anyone,
      query: PageQuery,
      response: { 200: ProductPage, ...failures },
      detail: {
        operationId: 'listProducts',
        tags,
        summary: 'List products',
        description: 'Oldest first; pass `nextCursor` back as `cursor`.',
        responses: { 200: { description: 'A page of products' } },
      },
    })
    .get(
      '/:id',
      async ({ params, set }) => {
        const { product, hit } = await products.get(params.id)
        set.headers['x-cache'] = hit ? 'HIT' : 'MISS'
        return product
      },
      {
        access: anyone,
        params: IdParams,
        response: { 200: Product, 404: Problem, ...failures },
        detail: {
          operationId: 'getProduct',
          tags,
          summary: 'Get a product',
          description: 'Served through Redis; `X-Cache: HIT|MISS` says which.',
          responses: { 200: described('The product', 'X-Cache'), 404: { description: 'No product with this id' } },
        },
      },
    )
    .patch('/:id', ({ params, body }) => products.update(params.id, body), {
      access: staff,
      params: IdParams,
      body: UpdateProduct,
      response: { 200: Product, 404: Problem, ...writeFailures },
      detail: {
        operationId: 'updateProduct',
        tags,
        summary: 'Change name, price or stock',
        description: 'Sets the fields sent (`qty` absolutely); invalidates the cached product.',
        responses: { 200: { description: 'The product as changed' }, 404: { description: 'No product with this id' }, ...notANumber },
      },
    })
    .delete(
      '/:id',
      async ({ params, set }) => {
        await products.remove(params.id)
        set.status = 204
      },
      {
        access: staff,
        params: IdParams,
        response: { 404: Problem, ...failures },
        detail: {
          operationId: 'deleteProduct',
          tags,
          summary: 'Delete a product',
          description: 'Invalidates the cached product.',
          responses: { 204: { description: 'Deleted' }, 404: { description: 'No product with this id' } },
        },
      },
    )
