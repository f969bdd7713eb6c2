import { SpanKind, traceHeaders, unavailable, type Log, type Tracing } from '@shop/kit'
import { requestHeaders, type Hop } from './headers.ts'

/**
 * One service behind the bff (product or order), over HTTP: each call bounded until the service
 * begins its answer (`timeoutMs`; the body then flows as long as it lasts, an event stream too),
 * made in a client span whose context it carries in `traceparent`, on the runtime's pooled
 * keep-alive connections (Bun's and Deno's fetch keep them). A service that does not answer in
 * time, or refuses the connection, is a 503 with Retry-After; whatever it answers is its answer.
 */
export type UpstreamOptions = { name: string; baseUrl: string; timeoutMs: number; log: Log; tracing: Tracing }

/** The caller as the bff passes it on: its headers (Authorization among them, untouched) and the hop. */
export type Caller = { headers: Headers; requestId: string; client: string; signal?: AbortSignal }

/** Seconds a caller waits before trying again when a service does not answer. */
const RETRY_AFTER_SECONDS = 2

export function upstream({ name, baseUrl, timeoutMs, log, tracing }: UpstreamOptions) {
  /**
   * `method` `path` (with its query) as `caller` asked, `body` as JSON text. `span`: the client
   * span's name, a route template where there is one (`GET /products/:id`), else the method.
   */
  async function call(method: string, path: string, caller: Caller, { body, span: spanName = method }: { body?: string; span?: string } = {}): Promise<Response> {
    const attributes = { 'http.request.method': method, 'server.address': baseUrl, 'url.path': path.split('?')[0]!, 'peer.service': name }
    return tracing.inSpan(spanName, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const hop: Hop = { requestId: caller.requestId, client: caller.client, trace: traceHeaders() }
      const headers = requestHeaders(caller.headers, hop)
      if (body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json')
      // the bound ends once the answer begins; a caller going away ends the call at once
      const deadline = new AbortController()
      const timer = setTimeout(() => deadline.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs)
      try {
        const res = await fetch(`${baseUrl}${path}`, {
          method,
          headers,
          body,
          redirect: 'manual',
          signal: caller.signal ? AbortSignal.any([caller.signal, deadline.signal]) : deadline.signal,
        })
        span?.setAttribute('http.response.status_code', res.status)
        return res
      } catch (err) {
        // a caller that left hears nothing: only a service that did not answer is worth a line
        if (!caller.signal?.aborted) log.warn(`${name} service unreachable`, { method, path: path.split('?')[0], requestId: caller.requestId, err: String(err) })
        throw unavailable(`The ${name} service is not answering; try again shortly.`, RETRY_AFTER_SECONDS)
      } finally {
        clearTimeout(timer)
      }
    })
  }

  return { name, baseUrl, call }
}

export type Upstream = ReturnType<typeof upstream>

/** The Retry-After a service sent, when it is a number of seconds; else the bff's own. */
export const retryAfterOf = (res: Response) => {
  const seconds = Number(res.headers.get('retry-after'))
  return Number.isInteger(seconds) && seconds > 0 ? seconds : RETRY_AFTER_SECONDS
}

/** Is a service there: its /ready answers 200 (`ready` or `degraded`) within 2 s. For the bff's /ready. */
export const answers = (baseUrl: string) => async () => {
  const res = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(2000) })
  await res.body?.cancel()
  if (!res.ok) throw new Error(`${baseUrl}/ready answered ${res.status}`)
}
