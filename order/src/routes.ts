import { Elysia } from 'elysia'
import {
  CreateOrder,
  CreateOrderHeaders,
  IdParams,
  Order,
  OrderPage,
  PageQuery,
  Problem,
  ProductIdParams,
  ValidationProblem,
} from '@shop/contracts'
import type { Scope } from '@shop/contracts'
import { arrivedAt, described, requestId, type Access, type AppPlatform, type Caller } from '@shop/kit'
import type { Bucket } from './config.ts'
import type { Orders } from './orders.ts'
import type { SagaMetrics } from './saga-metrics.ts'

const tags = ['orders']
// every route reads or writes PostgreSQL: while it is away the answer is 503 with Retry-After
const failures = { 400: ValidationProblem, 503: Problem }
const noOrder = { description: "No order with this id (or it is another customer's)" }
const customer: Access<Bucket, Scope> = { scopes: ['orders:write'], limit: 'orders' }
const customerOrStaff: Access<Bucket, Scope> = { scopes: ['orders:read', 'orders:write'], limit: 'reads' }
const staff: Access<Bucket, Scope> = { scopes: ['orders:read'], limit: 'reads' }

/** Staff (`orders:read`) may see any order; a customer only their own. */
const ownerFilter = (caller: Caller) => (caller.scopes.has('orders:read') ? undefined : (caller.sub ?? undefined))

/** HTTP only: shapes come from contracts/, decisions from orders.ts, errors from the kit. */
export const orderRoutes = (orders: Orders, saga: SagaMetrics, guard: AppPlatform<Bucket>['access']) =>
  new Elysia({ prefix: '/orders' })
    .use(requestId()) // the app's own plugin (deduplicated by name): gives the routes `requestId`
    .use(guard)
    .post(
      '',
      async ({ body, headers, set, requestId, caller, request }) => {
        // placing's first step, `access`: from the request's arrival to here (auth, rate limit, body)
        const arrived = arrivedAt(request)
        if (arrived !== undefined) saga.stepDone('access', arrived)
        const { order, replayed } = await orders.place({ input: body, customerId: caller.sub, requestId, idempotencyKey: headers['idempotency-key'] })
        set.status = 201
        set.headers.location = `/orders/${order.id}`
        if (replayed) set.headers['idempotent-replayed'] = 'true'
        return order
      },
      {
        access: customer,
        body: CreateOrder,
        headers: CreateOrderHeaders,
        response: { 201: Order, 404: Problem, 409: Problem, 422: Problem, ...failures },
        detail: {
          operationId: 'placeOrder',
          tags,
          summary: 'Place an order',
          description:
            'Checks the product, stores the order as `pending` and publishes `order.created`; the order becomes ' +
            '`confirmed` or `rejected` when product has taken (or could not take) the stock. The total is computed here.',
          responses: {
            201: described('The order, `pending`; `Location` names it', 'Idempotent-Replayed'),
            404: { description: 'No product with this id' },
            409: { description: 'The price sent differs from the current one, or not enough stock (`errors` says which)' },
            422: { description: 'The Idempotency-Key was used with another body, or `price` has more than 2 fraction digits' },
            503: { description: 'product (or the database) is not answering; try again after `Retry-After` seconds' },
          },
        },
      },
    )
    .get('/:id', ({ params, caller }) => orders.get(params.id, ownerFilter(caller)), {
      access: customerOrStaff,
      params: IdParams,
      response: { 200: Order, 404: Problem, ...failures },
      detail: {
        operationId: 'getOrder',
        tags,
        summary: 'Get an order',
        description: 'With its status and, when rejected, `rejectionReason`.',
        responses: { 200: { description: 'The order' }, 404: noOrder },
      },
    })
    .get(
      '/product/:productId',
      async ({ params, query, set }) => {
        const { value, hit } = await orders.listByProduct(params.productId, query)
        set.headers['x-cache'] = hit ? 'HIT' : 'MISS'
        return value!
      },
      {
        access: staff,
        params: ProductIdParams,
        query: PageQuery,
        response: { 200: OrderPage, ...failures },
        detail: {
          operationId: 'listOrdersOfProduct',
          tags,
          summary: "List a product's orders",
          description: 'Oldest first, cached in Redis (`X-Cache`); pass `nextCursor` back as `cursor`.',
          responses: { 200: described('A page of orders', 'X-Cache') },
        },
      },
    )
    .delete('/:id', ({ params, requestId, caller }) => orders.cancel(params.id, requestId, ownerFilter(caller)), {
      access: customer,
      params: IdParams,
      response: { 200: Order, 404: Problem, 409: Problem, ...failures },
      detail: {
        operationId: 'cancelOrder',
        tags,
        summary: 'Cancel a confirmed order',
        description: 'Publishes `order.cancelled`; product puts the stock back once.',
        responses: {
          200: { description: 'The order, `cancelled`' },
          404: noOrder,
          409: { description: 'The order is pending or rejected, so there is nothing to cancel' },
        },
      },
    })
