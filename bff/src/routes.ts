import { Elysia } from 'elysia'
import { OrderSummary, OrderSummaryParams, OrderSummaryQuery, Problem, ValidationProblem, type Scope } from '@shop/contracts'
import { described, requestId, type Access, type HttpPlatform } from '@shop/kit'
import type { Bucket } from './config.ts'
import type { Forwarder } from './forward.ts'
import type { OrderSummaryReader } from './order-summary.ts'
import type { Caller, Upstream } from './upstream.ts'

// the services check the token again, with their own scopes: here it is checked once, at the
// door, so a bad one costs no hop, and each caller is counted in the bff's own limit
const anyone: Access<Bucket, Scope> = { limit: 'requests' }
const staff: Access<Bucket, Scope> = { scopes: ['orders:read'], limit: 'requests' }
// not in the bff's API document: each service documents its own routes
const forwarded = { access: anyone, detail: { hide: true } }
// one route per method rather than `.all`: the router tries a method's own routes before `.all`
// ones, so the storefront's GET `/*` would win over an `.all('/orders/*')`
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

type Platform = Pick<HttpPlatform<Bucket>, 'access' | 'clientOf'>

type Parts = { summarize: OrderSummaryReader; forwarder: Forwarder; product: Upstream; order: Upstream; platform: Platform }

/** HTTP only: the summary's shapes come from contracts/, its answer from order-summary.ts; the rest is forwarded (forward.ts). */
export const bffRoutes = ({ summarize, forwarder, product, order, platform }: Parts) => {
  const callerOf = ({ request, requestId, server }: { request: Request; requestId: string; server: unknown }): Caller => ({
    headers: request.headers,
    requestId,
    client: platform.clientOf(request, server),
    signal: request.signal,
  })
  /** `prefix` and everything under it, every method, to `service` */
  const forwarding = (prefix: string, service: Upstream) => {
    const app = new Elysia().use(requestId()).use(platform.access)
    for (const method of METHODS)
      for (const path of [prefix, `${prefix}/*`])
        app.route(
          method,
          path,
          ({ request, body, requestId, server }) => forwarder.forward({ to: service, request, body, caller: callerOf({ request, requestId, server }), server }),
          forwarded,
        )
    return app
  }

  return new Elysia()
    .use(requestId()) // the app's own plugin (deduplicated by name): gives the routes `requestId`
    .use(platform.access)
    .get(
      '/order-summary/:productId',
      async ({ params, query, set, request, requestId, server }) => {
        const { summary, partial } = await summarize(params.productId, query, callerOf({ request, requestId, server }))
        if (partial.length) set.headers['x-partial'] = partial.join(', ')
        return summary
      },
      {
        access: staff,
        params: OrderSummaryParams,
        query: OrderSummaryQuery,
        response: { 200: OrderSummary, 404: Problem, 400: ValidationProblem, 503: Problem },
        detail: {
          operationId: 'getOrderSummary',
          tags: ['summary'],
          summary: 'A product with its orders (the seed API)',
          description:
            "The product (from product) and a page of its orders (from order, `limit` and `cursor` as there), asked in parallel, with the count of all its orders (`totalOrders`, order's `total` for the page). Order not answering still gives 200, without the orders: `orders`, `nextCursor` and `totalOrders` are null and `partial` (and `X-Partial`) says `orders`; an order that answers its page without `total` (a release from before it) gives `totalOrders: null` and `partial: ['totalOrders']`. The caller's token goes to both services unchanged; order's list needs `orders:read`.",
          responses: {
            200: described('The product and its orders; `X-Partial` names what is missing, if anything', 'X-Partial'),
            404: { description: 'No product with this id' },
            503: { description: 'product is not answering; try again after `Retry-After` seconds' },
          },
        },
      },
    )
    .use(forwarding('/products', product))
    .use(forwarding('/orders', order))
}
