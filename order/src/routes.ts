import { Elysia } from 'elysia'
import {
  CreateOrder,
  CreateOrderHeaders,
  IdParams,
  Order,
  OrderEventsHeaders,
  OrderPage,
  OrderTimeline,
  PageQuery,
  Problem,
  ProductIdParams,
  ValidationProblem,
} from '@shop/contracts'
import type { Scope } from '@shop/contracts'
import { arrivedAt, described, requestId, traceIdOf, type Access, type AppPlatform, type Caller } from '@shop/kit'
import type { Bucket } from './config.ts'
import type { Orders } from './orders.ts'
import type { SagaMetrics } from './saga-metrics.ts'
import type { OrderStreams } from './streams.ts'

const tags = ['orders']
// every route reads or writes PostgreSQL: while it is away the answer is 503 with Retry-After
const failures = { 400: ValidationProblem, 503: Problem }
const noOrder = { description: "No order with this id (or it is another customer's)" }
const customer: Access<Bucket, Scope> = { scopes: ['orders:write'], limit: 'orders' }
const customerOrStaff: Access<Bucket, Scope> = { scopes: ['orders:read', 'orders:write'], limit: 'reads' }
const staff: Access<Bucket, Scope> = { scopes: ['orders:read'], limit: 'reads' }

/** Staff (`orders:read`) may see any order; a customer only their own. */
const ownerFilter = (caller: Caller) => (caller.scopes.has('orders:read') ? undefined : (caller.sub ?? undefined))

const streamExample =
  'retry: 2000\n\nid: 1\nevent: accepted\ndata: {"seq":1,"kind":"accepted","at":"2026-11-25T10:00:00.000Z"}\n\n' +
  'id: 2\nevent: published\ndata: {"seq":2,"kind":"published","at":"2026-11-25T10:00:00.012Z","eventId":"0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24","event":"order.created"}\n\n' +
  ': keep-alive\n\n'

type RouteDeps = { orders: Orders; saga: SagaMetrics; streams: OrderStreams; platform: Pick<AppPlatform<Bucket>, 'access' | 'clientOf'> }

/** HTTP only: shapes come from contracts/, decisions from orders.ts, errors from the kit. */
export const orderRoutes = ({ orders, saga, streams, platform: { access: guard, clientOf } }: RouteDeps) =>
  new Elysia({ prefix: '/orders' })
    .use(requestId()) // the app's own plugin (deduplicated by name): gives the routes `requestId`
    .use(guard)
    .post(
      '',
      async ({ body, headers, set, requestId, caller, request }) => {
        // placing's first step, `access`: from the request's arrival to here (auth, rate limit, body)
        const arrived = arrivedAt(request)
        if (arrived !== undefined) saga.stepDone('access', arrived)
        const placing = { input: body, customerId: caller.sub, requestId, traceId: traceIdOf(request), idempotencyKey: headers['idempotency-key'] }
        const { order, replayed } = await orders.place(placing)
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
    .get('/:id/timeline', ({ params, caller }) => orders.timeline(params.id, ownerFilter(caller)), {
      access: customerOrStaff,
      params: IdParams,
      response: { 200: OrderTimeline, 404: Problem, ...failures },
      detail: {
        operationId: 'getOrderTimeline',
        tags,
        summary: "An order's journey, step by step",
        description:
          'Each step with its time, as order recorded it in the transaction of the change: accepted, `order.created` confirmed by ' +
          "the broker, resent, product's answer (its event id, the reason), the final status, cancelled, the stock given back; " +
          'with the resends and retries counted and the trace id of the request that placed it.',
        responses: { 200: { description: 'The timeline, accepted first' }, 404: noOrder },
      },
    })
    .get(
      '/:id/events',
      async ({ params, caller, headers, request, server }) => {
        await orders.get(params.id, ownerFilter(caller))
        const who = caller.sub ? `sub:${caller.sub}` : `ip:${clientOf(request, server)}`
        const body = streams.open({ orderId: params.id, caller: who, after: Number(headers['last-event-id'] ?? 0) })
        // no-transform and X-Accel-Buffering: proxies pass each event on as it comes
        return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' } })
      },
      {
        access: customerOrStaff,
        params: IdParams,
        headers: OrderEventsHeaders,
        response: { 404: Problem, 429: Problem, ...failures },
        detail: {
          operationId: 'streamOrderEvents',
          tags,
          summary: "An order's steps as they happen (Server-Sent Events)",
          description:
            'Sends the steps that exist, then each new one as it is recorded, on whichever replica: `id:` is the step\'s `seq`, ' +
            '`event:` its `kind`, `data:` the step (`OrderStep`) as JSON. With `Last-Event-ID` it goes on after that step. A comment ' +
            'line every 15 s keeps proxies from closing it. It ends once the order is final (confirmed, rejected or cancelled), and ' +
            'when the replica stops (reconnect with `Last-Event-ID`). A caller holds at most `ORDER_STREAMS_PER_CALLER` streams at once.',
          responses: {
            200: {
              description: 'The event stream: one event per step, `data:` an `OrderStep`',
              content: { 'text/event-stream': { schema: { type: 'string', description: 'Server-Sent Events; each `data:` is an OrderStep as JSON' }, example: streamExample } },
            },
            404: noOrder,
            429: { description: 'Too many requests in this window, or this caller holds `ORDER_STREAMS_PER_CALLER` streams already' },
            503: { description: 'The database is not answering, or this replica is shutting down; try again after `Retry-After` seconds' },
          },
        },
      },
    )
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
          description:
            'Oldest first, cached in Redis (`X-Cache`); pass `nextCursor` back as `cursor`. Every page carries `total`, how many ' +
            'orders the product has in all (not only on this page or after the cursor), read with the page and cached with it.',
          responses: { 200: described('A page of orders, with the count of all of them', 'X-Cache') },
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
