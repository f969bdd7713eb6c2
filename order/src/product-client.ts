import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Product } from '@shop/contracts'
import { notFound, sharedPerKey, SpanKind, traceHeaders, unavailable, type Log, type ServiceCredential, type Tracing } from '@shop/kit'

/**
 * The synchronous call to product: a timeout, one retry when the connection fails, and every
 * answer checked against the contract. Product unreachable -> Unavailable (503 with Retry-After).
 * Orders for the same product that arrive while its check is on the way share the next check
 * (`sharedPerKey`): each order is still checked against an answer product gave after the order
 * arrived, but a burst on one product costs one call per round trip, not one per order. The
 * shared call carries the first order's request id and trace parent.
 * order calls as itself: its own bearer token (scope `products:check`, `credential`), so product
 * counts these calls in the bucket of the order service, never in an anonymous address's. A 429
 * from product (should it ever come) is a 503 with product's own Retry-After.
 */
// without `version`: order needs only the price and stock, and a product replica from before the
// ETag (mid-rollout) answers without it
// a newer product may add fields: they are allowed here whatever the shared schema object says
// (Elysia marks a response schema closed in place when product's app is built in the same process)
const isProduct = TypeCompiler.Compile(Type.Omit(Product, ['version'], { additionalProperties: true }))

export type ProductClientOptions = {
  baseUrl: string
  timeoutMs: number
  log: Log
  tracing: Tracing
  /** order's own token for its calls (scope `products:check`); none with AUTH=off */
  credential?: ServiceCredential
}

export function createProductClient({ baseUrl, timeoutMs, log, tracing, credential }: ProductClientOptions) {
  // a client span per call; product's server span becomes its child through `traceparent`
  type Caller = { requestId: string; parent: Record<string, string> }
  const attempt = (id: string, { requestId, parent }: Caller, authorization?: { authorization: string }): Promise<Response> =>
    tracing.inSpan('GET /products/:id', { kind: SpanKind.CLIENT, parentFrom: parent, attributes: { 'http.request.method': 'GET', 'server.address': baseUrl } }, (span) =>
      fetch(`${baseUrl}/products/${id}`, {
        headers: { accept: 'application/json', 'x-request-id': requestId, ...authorization, ...traceHeaders() },
        signal: AbortSignal.timeout(timeoutMs),
      }).then((res) => {
        span?.setAttribute('http.response.status_code', res.status)
        return res
      }),
    )

  const check = sharedPerKey(async (id: string, caller: Caller): Promise<Product> => {
    const { requestId } = caller
    // a 503 of its own when the identity provider cannot give order a token
    const authorization = credential ? { authorization: await credential.authorization() } : undefined
    let res: Response
    try {
      res = await attempt(id, caller, authorization).catch((err) => {
        if ((err as Error).name === 'TimeoutError') throw err
        return attempt(id, caller, authorization) // one retry, on a connection error only
      })
    } catch (err) {
      log.warn('product service unreachable', { productId: id, requestId, err: String(err) })
      throw unavailable('The product service is not answering; try again shortly.', 2)
    }
    if (res.status === 404) throw notFound(`product ${id}`)
    if (res.status === 429) {
      const retryAfter = Number(res.headers.get('retry-after'))
      log.warn('product service rate-limited the order service', { productId: id, requestId, retryAfter })
      throw unavailable('The product service is busy; try again shortly.', Number.isInteger(retryAfter) && retryAfter > 0 ? retryAfter : 2)
    }
    if (res.status === 401 || res.status === 403)
      // a configuration fault between the services (keys, issuer, audience), not the customer's
      log.error("product service refused order's credential", { productId: id, requestId, status: res.status, why: res.headers.get('www-authenticate') })
    const body: unknown = await res.json().catch(() => undefined)
    if (res.status !== 200 || !isProduct.Check(body)) {
      log.warn('product service answered unexpectedly', { productId: id, requestId, status: res.status })
      throw unavailable('The product service answered unexpectedly; try again shortly.', 2)
    }
    return body as Product
  })

  return {
    get: (id: string, requestId: string): Promise<Product> => check(id, { requestId, parent: tracing.enabled ? traceHeaders() : {} }),
  }
}

export type ProductClient = ReturnType<typeof createProductClient>
