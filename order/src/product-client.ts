import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Product } from '@shop/contracts'
import { notFound, SpanKind, traceHeaders, unavailable, type Log, type Tracing } from '@shop/kit'

/**
 * The synchronous call to product: a timeout, one retry when the connection fails, and every
 * answer checked against the contract. Product unreachable -> Unavailable (503 with Retry-After).
 */
const isProduct = TypeCompiler.Compile(Product)

export function createProductClient(baseUrl: string, timeoutMs: number, log: Log, tracing: Tracing) {
  // a client span per call; product's server span becomes its child through `traceparent`
  const attempt = (id: string, requestId: string): Promise<Response> =>
    tracing.inSpan('GET /products/:id', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET', 'server.address': baseUrl } }, (span) =>
      fetch(`${baseUrl}/products/${id}`, {
        headers: { accept: 'application/json', 'x-request-id': requestId, ...traceHeaders() },
        signal: AbortSignal.timeout(timeoutMs),
      }).then((res) => {
        span?.setAttribute('http.response.status_code', res.status)
        return res
      }),
    )

  return {
    async get(id: string, requestId: string): Promise<Product> {
      let res: Response
      try {
        res = await attempt(id, requestId).catch((err) => {
          if ((err as Error).name === 'TimeoutError') throw err
          return attempt(id, requestId) // one retry, on a connection error only
        })
      } catch (err) {
        log.warn('product service unreachable', { productId: id, requestId, err: String(err) })
        throw unavailable('The product service is not answering; try again shortly.', 2)
      }
      if (res.status === 404) throw notFound(`product ${id}`)
      const body: unknown = await res.json().catch(() => undefined)
      if (res.status !== 200 || !isProduct.Check(body)) {
        log.warn('product service answered unexpectedly', { productId: id, requestId, status: res.status })
        throw unavailable('The product service answered unexpectedly; try again shortly.', 2)
      }
      return body
    },
  }
}

export type ProductClient = ReturnType<typeof createProductClient>
