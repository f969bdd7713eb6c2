/**
 * Which headers cross the bff, each way, as pure rules. Everything end to end passes unchanged
 * (Authorization, If-Match, If-None-Match, Idempotency-Key, Last-Event-ID one way; ETag,
 * Retry-After, WWW-Authenticate, RateLimit-*, X-Cache, Idempotent-Replayed the other); what
 * belongs to one connection stays on it, and the bff says itself who the client is, which
 * request this is and which trace it belongs to.
 */

// RFC 9110 7.6.1: meant for one connection only; plus what fetch frames itself
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']
const FRAMED_BY_FETCH = ['host', 'content-length', 'expect']
// the bff answers for these itself: the client it made out, the request's id, the trace
const RESTATED = ['forwarded', 'x-forwarded-for', 'x-request-id', 'x-correlation-id']
// the storefront's, not the services'
const BROWSER_ONLY = ['cookie']
// what fetch undid: Bun and Deno decompress a body and frame it anew
const UNDONE_BY_FETCH = ['content-length', 'content-encoding']

/** The headers a `Connection` header names are hop-by-hop too. */
const namedByConnection = (headers: Headers) =>
  (headers.get('connection') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean)

function without(headers: Headers, names: string[]): Headers {
  const out = new Headers()
  const dropped = new Set([...names, ...namedByConnection(headers)])
  headers.forEach((value, name) => {
    if (!dropped.has(name)) out.append(name, value)
  })
  return out
}

export type Hop = {
  /** the request's id (the caller's when it is a safe one): sent as X-Request-Id and X-Correlation-Id */
  requestId: string
  /** the client as the bff made it out (its TRUSTED_PROXIES): sent as the one X-Forwarded-For hop */
  client: string
  /** `traceparent`/`tracestate` of the bff's client span; empty when the bff does not trace */
  trace: Record<string, string>
}

/**
 * What the bff sends on: the caller's headers end to end, Authorization untouched (the bff adds no
 * credential of its own); the client it made out as the only X-Forwarded-For hop, so a service
 * that trusts the bff as a proxy counts the visitor, never the bff; the request id; and its own
 * client span as the trace parent, or, when it does not trace, the caller's as it came.
 */
export function requestHeaders(incoming: Headers, hop: Hop): Headers {
  const out = without(incoming, [...HOP_BY_HOP, ...FRAMED_BY_FETCH, ...RESTATED, ...BROWSER_ONLY])
  out.set('x-request-id', hop.requestId)
  out.set('x-correlation-id', hop.requestId)
  out.set('x-forwarded-for', hop.client)
  if (hop.trace.traceparent) {
    out.delete('tracestate')
    for (const [name, value] of Object.entries(hop.trace)) out.set(name, value)
  }
  return out
}

/**
 * What the caller gets back: the service's headers as it answered, less what belonged to the
 * hop, with a `Location` the service wrote as its own URL made the bff's (same path: the bff
 * serves the services' paths as they are).
 */
export function responseHeaders(answered: Headers, serviceUrl: string): Headers {
  const out = without(answered, [...HOP_BY_HOP, ...UNDONE_BY_FETCH])
  const location = out.get('location')
  if (location) out.set('location', locationOnTheBff(location, serviceUrl))
  return out
}

/**
 * `http://order:8080/orders/1` (the service's own address) -> `/orders/1`; a relative
 * `/orders/1` stays as it is; a service mounted under a path (`http://host/order`) loses it.
 * Anyone else's URL stays as it is.
 */
export function locationOnTheBff(location: string, serviceUrl: string): string {
  const service = new URL(serviceUrl)
  const target = new URL(location, service)
  if (target.origin !== service.origin) return location
  const base = service.pathname.replace(/\/$/, '')
  const path = base && (target.pathname === base || target.pathname.startsWith(`${base}/`)) ? target.pathname.slice(base.length) || '/' : target.pathname
  return `${path}${target.search}${target.hash}`
}

/** Statuses whose answer has no body, whatever the service sent (RFC 9110). */
export const withoutBody = (method: string, status: number) => method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)

/** An event stream: its body flows to the caller as it comes, for as long as it lasts. */
export const isEventStream = (headers: Headers) => (headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream')
