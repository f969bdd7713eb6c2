import { Elysia } from 'elysia'
import { CreateOrder, CreateOrderHeaders, IdParams, Order, OrderPage, PageQuery, Problem, ProductIdParams } from '@shop/contracts'
import { requestId } from '@shop/kit'
import type { Orders } from './orders.ts'

/** HTTP only: shapes come from contracts/, decisions from orders.ts, errors from the kit. */
export const orderRoutes = (orders: Orders) =>
  new Elysia({ prefix: '/orders', detail: { tags: ['orders'] } })
    .use(requestId()) // the app's own plugin (deduplicated by name): gives the routes `requestId`
    .post(
      '',
      async ({ body, headers, set, requestId }) => {
        const { order, replayed } = await orders.place(body, requestId, headers['idempotency-key'])
        set.status = 201
        set.headers.location = `/orders/${order.id}`
        if (replayed) set.headers['idempotent-replayed'] = 'true'
        return order
      },
      {
        body: CreateOrder,
        headers: CreateOrderHeaders,
        response: { 201: Order, 400: Problem, 404: Problem, 409: Problem, 415: Problem, 422: Problem, 503: Problem },
        detail: {
          summary: 'Place an order',
          description:
            'Checks the product, stores the order as `pending` and publishes `order.created`; the order becomes ' +
            '`confirmed` or `rejected` when product has taken (or could not take) the stock. 404: unknown product; ' +
            '409: price changed or not enough stock; 503: product unreachable (see Retry-After).',
        },
      },
    )
    .get('/:id', ({ params }) => orders.get(params.id), {
      params: IdParams,
      response: { 200: Order, 400: Problem, 404: Problem },
      detail: { summary: 'Get an order' },
    })
    .get(
      '/product/:productId',
      async ({ params, query, set }) => {
        const { value, hit } = await orders.listByProduct(params.productId, query)
        set.headers['x-cache'] = hit ? 'HIT' : 'MISS'
        return value!
      },
      {
        params: ProductIdParams,
        query: PageQuery,
        response: { 200: OrderPage, 400: Problem },
        detail: { summary: "List a product's orders", description: 'Oldest first, cached in Redis (`X-Cache`).' },
      },
    )
    .delete('/:id', ({ params, requestId }) => orders.cancel(params.id, requestId), {
      params: IdParams,
      response: { 200: Order, 400: Problem, 404: Problem, 409: Problem },
      detail: {
        summary: 'Cancel a confirmed order',
        description: 'Publishes `order.cancelled`; product puts the stock back once. 409 while pending or when rejected.',
      },
    })
