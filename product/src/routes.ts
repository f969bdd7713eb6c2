import { Elysia } from 'elysia'
import {
  CreateProduct,
  IdParams,
  IfMatchHeaders,
  IfNoneMatchHeaders,
  PageQuery,
  Problem,
  Product,
  ProductPage,
  UpdateProduct,
  ValidationProblem,
} from '@shop/contracts'
import type { Scope } from '@shop/contracts'
import { described, type Access, type AppPlatform } from '@shop/kit'
import type { Bucket } from './config.ts'
import { etagOf, notModified, notModifiedResponse, versionsAllowed } from './etag.ts'
import type { Products } from './products.ts'

const tags = ['products']
const anyone: Access<Bucket, Scope> = { limit: 'reads' }
const staff: Access<Bucket, Scope> = { scopes: ['products:write'], limit: 'writes' }
// every route reads or writes PostgreSQL: while it is away the answer is 503 with Retry-After
const failures = { 400: ValidationProblem, 503: Problem }
// (413 and 415 for a body, 401/403/429 for the access rule: the kit documents those itself)
const writeFailures = { ...failures, 422: Problem }
const notANumber = { 422: { description: 'A JSON number `price` with more than 2 fraction digits' } }
const noProduct = { description: 'No product with this id (whatever If-Match says)' }
const changedMeanwhile = described('If-Match names none of the versions: the product changed since it was read; nothing was written. `ETag` is the current one', 'ETag')

/** HTTP only: shapes come from contracts/, decisions from products.ts, errors from the kit. */
export const productRoutes = (products: Products, guard: AppPlatform<Bucket>['access']) =>
  new Elysia({ prefix: '/products' })
    .use(guard)
    .post(
      '',
      async ({ body, set }) => {
        const product = await products.create(body)
        set.status = 201
        set.headers.location = `/products/${product.id}`
        set.headers.etag = etagOf(product.version)
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
          responses: { 201: described('The product; `Location` names it', 'ETag'), ...notANumber },
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
      async ({ params, headers, set }) => {
        const { product, hit } = await products.get(params.id)
        set.headers['x-cache'] = hit ? 'HIT' : 'MISS'
        set.headers.etag = etagOf(product.version)
        // a 304 is no Product, so Elysia's types (one per response schema) do not know it
        if (notModified(headers['if-none-match'], product.version)) return notModifiedResponse(set.headers) as never
        return product
      },
      {
        access: anyone,
        params: IdParams,
        headers: IfNoneMatchHeaders,
        response: { 200: Product, 404: Problem, ...failures },
        detail: {
          operationId: 'getProduct',
          tags,
          summary: 'Get a product',
          description:
            'Served through Redis; `X-Cache: HIT|MISS` says which. `ETag` is the product\'s version; sent back as ' +
            '`If-None-Match`, it gets a 304 without a body while the product has not changed (stock included).',
          responses: {
            200: described('The product', 'X-Cache', 'ETag'),
            304: described('Not modified: If-None-Match names the current ETag; no body', 'X-Cache', 'ETag'),
            404: { description: 'No product with this id' },
          },
        },
      },
    )
    .patch(
      '/:id',
      async ({ params, body, headers, set }) => {
        const product = await products.update(params.id, body, versionsAllowed(headers['if-match']))
        set.headers.etag = etagOf(product.version)
        return product
      },
      {
        access: staff,
        params: IdParams,
        headers: IfMatchHeaders,
        body: UpdateProduct,
        response: { 200: Product, 404: Problem, 409: Problem, 412: Problem, ...writeFailures },
        detail: {
          operationId: 'updateProduct',
          tags,
          summary: 'Change name, price or stock',
          description:
            'Sets the fields sent in one statement; invalidates the cached product. Stock: `qtyDelta` adds to it (or takes ' +
            'from it) as it is when the change lands, so stock orders took since you read it stays taken. `qty` sets it ' +
            'absolutely: send it with `If-Match: <the ETag you read>`, else a stock change made since your read (an order ' +
            'taking stock) is overwritten; with If-Match such a change gets a 412 instead and you read again.',
          responses: {
            200: described('The product as changed; `ETag` is its new version', 'ETag'),
            404: noProduct,
            409: { description: '`qtyDelta` would take the stock below 0 (or past 2147483647); nothing was written' },
            412: changedMeanwhile,
            422: { description: '`qty` and `qtyDelta` together, or a JSON number `price` with more than 2 fraction digits' },
          },
        },
      },
    )
    .delete(
      '/:id',
      async ({ params, headers, set }) => {
        await products.remove(params.id, versionsAllowed(headers['if-match']))
        set.status = 204
      },
      {
        access: staff,
        params: IdParams,
        headers: IfMatchHeaders,
        response: { 404: Problem, 412: Problem, ...failures },
        detail: {
          operationId: 'deleteProduct',
          tags,
          summary: 'Delete a product',
          description: 'Invalidates the cached product. With `If-Match`, only while the product is at that version.',
          responses: { 204: { description: 'Deleted' }, 404: noProduct, 412: changedMeanwhile },
        },
      },
    )
