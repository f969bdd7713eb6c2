import { isEventStream, responseHeaders, withoutBody } from './headers.ts'
import type { Caller, Upstream } from './upstream.ts'

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH'])

/** Bun's server (through Elysia) drops a connection idle for 30 s: never an event stream's. Deno has no such bound. */
type Server = { timeout?(request: Request, seconds: number): void } | null | undefined

/**
 * A request passed on to the service that serves its path, and the service's answer passed back
 * as it is: status, body, and the headers (`responseHeaders`). The body arrives parsed (the
 * kit's shell refused what is too large, not JSON, or not JSON at all) and goes on as JSON text,
 * which is what the service would have read from the original. The answer's body is streamed,
 * never held: an event stream reaches the caller event by event.
 */
export async function forward({ to, request, body, caller, server }: { to: Upstream; request: Request; body: unknown; caller: Caller; server?: Server }): Promise<Response> {
  const url = new URL(request.url)
  const method = request.method
  const sent = WITH_BODY.has(method) && body !== undefined ? JSON.stringify(body) : undefined
  const res = await to.call(method, `${url.pathname}${url.search}`, caller, { body: sent })
  const headers = responseHeaders(res.headers, to.baseUrl)
  if (isEventStream(res.headers)) server?.timeout?.(request, 0)
  if (withoutBody(method, res.status)) {
    await res.body?.cancel()
    return new Response(null, { status: res.status, statusText: res.statusText, headers })
  }
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers })
}
