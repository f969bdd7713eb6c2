import { describe, expect, it } from 'bun:test'
import { isEventStream, locationOnTheBff, requestHeaders, responseHeaders, withoutBody } from '../src/headers.ts'

const hop = { requestId: 'req-1', client: '198.51.100.7', trace: {} }
/** Headers as a plain object (the DOM typings here have no iterator on Headers). */
const plain = (headers: Headers) => {
  const out: Record<string, string> = {}
  headers.forEach((value, name) => (out[name] = value))
  return out
}

describe('the headers the bff sends on', () => {
  it('when a request crosses, then what is end to end passes untouched: the token, conditions, idempotency, the stream position', () => {
    const incoming = new Headers({
      authorization: 'Bearer abc.def.ghi',
      'if-match': '"3"',
      'if-none-match': 'W/"2", "3"',
      'idempotency-key': 'k-1',
      'last-event-id': '42',
      accept: 'text/event-stream',
      'content-type': 'application/json',
    })
    const out = requestHeaders(incoming, hop)
    expect(plain(out)).toMatchObject(plain(incoming))
  })

  it('when a request crosses, then what belongs to the connection, the browser or the caller\'s claims stays behind', () => {
    const incoming = new Headers({
      connection: 'keep-alive, x-hop',
      'x-hop': 'for this hop only',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      te: 'trailers',
      upgrade: 'h2c',
      'proxy-authorization': 'Basic x',
      host: 'shop.example',
      'content-length': '12',
      cookie: 'session=1',
      forwarded: 'for=203.0.113.1',
      'x-forwarded-for': '203.0.113.1',
    })
    const out = requestHeaders(incoming, hop)
    expect(Object.keys(plain(out)).sort()).toEqual(['x-correlation-id', 'x-forwarded-for', 'x-request-id'])
  })

  it('when a request crosses, then its id goes on under both names and the client as the bff made it out is the one forwarded hop', () => {
    const out = requestHeaders(new Headers({ 'x-request-id': 'theirs', 'x-correlation-id': 'theirs too' }), hop)
    expect(plain(out)).toEqual({ 'x-request-id': 'req-1', 'x-correlation-id': 'req-1', 'x-forwarded-for': '198.51.100.7' })
  })

  it("when the bff traces, then its client span is the parent sent on; when it does not, the caller's trace goes on as it came", () => {
    const incoming = new Headers({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=1' })
    const own = '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01'
    const traced = requestHeaders(incoming, { ...hop, trace: { traceparent: own } })
    expect([traced.get('traceparent'), traced.has('tracestate')]).toEqual([own, false])
    const untraced = requestHeaders(incoming, hop)
    expect([untraced.get('traceparent'), untraced.get('tracestate')]).toEqual([incoming.get('traceparent'), 'vendor=1'])
  })
})

describe('the headers the bff sends back', () => {
  it("when an answer crosses, then the service's headers pass, less the hop's and what fetch undid", () => {
    const answered = new Headers({
      etag: '"3"',
      'retry-after': '7',
      'www-authenticate': 'Bearer error="invalid_token"',
      'ratelimit-limit': '120',
      'x-cache': 'HIT',
      'idempotent-replayed': 'true',
      'content-type': 'application/problem+json',
      'content-length': '99',
      'content-encoding': 'gzip',
      'transfer-encoding': 'chunked',
      connection: 'close',
    })
    const out = plain(responseHeaders(answered, 'http://order:8080'))
    expect(out).toEqual({
      etag: '"3"',
      'retry-after': '7',
      'www-authenticate': 'Bearer error="invalid_token"',
      'ratelimit-limit': '120',
      'x-cache': 'HIT',
      'idempotent-replayed': 'true',
      'content-type': 'application/problem+json',
    })
  })

  it('when a Location is the service\'s own URL, then it becomes the bff\'s path; a relative one or anyone else\'s stays', () => {
    expect(locationOnTheBff('http://order:8080/orders/1', 'http://order:8080')).toBe('/orders/1')
    expect(locationOnTheBff('http://order:8080/orders/1?x=1#y', 'http://order:8080')).toBe('/orders/1?x=1#y')
    expect(locationOnTheBff('/orders/1', 'http://order:8080')).toBe('/orders/1')
    expect(locationOnTheBff('http://10.0.0.5/order/orders/1', 'http://10.0.0.5/order')).toBe('/orders/1')
    expect(locationOnTheBff('https://id.example.com/login', 'http://order:8080')).toBe('https://id.example.com/login')
    expect(responseHeaders(new Headers({ location: 'http://product:3000/products/9' }), 'http://product:3000').get('location')).toBe('/products/9')
  })

  it('when an answer may have no body (HEAD, 1xx, 204, 304), then it is sent without one; an event stream is known by its type', () => {
    expect([withoutBody('HEAD', 200), withoutBody('GET', 204), withoutBody('GET', 304), withoutBody('GET', 200), withoutBody('DELETE', 200)]).toEqual([true, true, true, false, false])
    expect(isEventStream(new Headers({ 'content-type': 'text/event-stream; charset=utf-8' }))).toBe(true)
    expect(isEventStream(new Headers({ 'content-type': 'application/json' }))).toBe(false)
  })
})
