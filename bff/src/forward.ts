import { isEventStream, responseHeaders, withoutBody } from './headers.ts'
import type { Caller, Upstream } from './upstream.ts'

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH'])

/** Bun's server (through Elysia) drops a connection idle for 30 s: never an event stream's. Deno has no such bound. */
type Server = { timeout?(request: Request, seconds: number): void } | null | undefined

/**
 * Requests passed on to the service that serves their path, and the service's answers passed back
 * as they are: status, body, and the headers (`responseHeaders`). A body arrives parsed (the
 * kit's shell refused what is too large, not JSON, or not JSON at all) and goes on as JSON text,
 * which is what the service would have read from the original. An answer's body is streamed,
 * never held: an event stream reaches the caller event by event, for as long as it lasts, or
 * until `endStreams` (SIGTERM) ends it cleanly so that the caller reconnects, with Last-Event-ID,
 * to a replica that stays.
 */
export function createForwarder() {
  const open = new Set<() => void>()

  async function forward({ to, request, body, caller, server }: { to: Upstream; request: Request; body: unknown; caller: Caller; server?: Server }): Promise<Response> {
    const url = new URL(request.url)
    const method = request.method
    const sent = WITH_BODY.has(method) && body !== undefined ? JSON.stringify(body) : undefined
    const res = await to.call(method, `${url.pathname}${url.search}`, caller, { body: sent })
    const headers = responseHeaders(res.headers, to.baseUrl)
    if (withoutBody(method, res.status) || !res.body) {
      await res.body?.cancel()
      return new Response(null, { status: res.status, statusText: res.statusText, headers })
    }
    if (!isEventStream(res.headers)) return new Response(res.body, { status: res.status, statusText: res.statusText, headers })
    server?.timeout?.(request, 0)
    // a proxy in front (ingress-nginx) must not hold the events back to fill its buffer
    headers.set('x-accel-buffering', 'no')
    return new Response(endable(res.body, open), { status: res.status, statusText: res.statusText, headers })
  }

  return {
    forward,
    /** Ends every event stream being forwarded, as a service's own streams end on SIGTERM. */
    endStreams() {
      for (const end of [...open]) end()
    },
  }
}

export type Forwarder = ReturnType<typeof createForwarder>

/** `body` as it comes, with an end of its own in `open` while it flows. */
function endable(body: ReadableStream<Uint8Array>, open: Set<() => void>): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  let end = () => {}
  return new ReadableStream<Uint8Array>({
    start(controller) {
      end = () => {
        open.delete(end)
        reader.cancel().catch(() => {})
        try {
          controller.close()
        } catch {} // already closed: the service ended it first
      }
      open.add(end)
    },
    async pull(controller) {
      try {
        const part = await reader.read()
        if (!part.done) return controller.enqueue(part.value)
        open.delete(end)
        controller.close()
      } catch (err) {
        open.delete(end)
        try {
          controller.error(err)
        } catch {} // ended meanwhile
      }
    },
    cancel(reason) {
      open.delete(end)
      return reader.cancel(reason)
    },
  })
}
