/**
 * The HTTP shell every route shares: request ids, and every error answered as
 * application/problem+json (RFC 9457) naming the field at fault, never a stack trace.
 */
import { Elysia, ParseError, ValidationError } from 'elysia'
import { PROBLEM_CONTENT_TYPE, type FieldError, type Problem } from '@shop/contracts'
import { DomainError, type ErrorKind } from '../core/errors.ts'
import { noteStatus } from './status.ts'
import { isTransient } from '../core/retry.ts'
import type { Log } from '../observability/log.ts'

const PROBLEM_BASE = 'https://shop.example/problems/'
const statusOfKind: Record<ErrorKind, number> = {
  NotFound: 404,
  Conflict: 409,
  Invalid: 422,
  Unavailable: 503,
  UnsupportedMediaType: 415,
  Unauthorized: 401,
  Forbidden: 403,
  TooLarge: 413,
  TooManyRequests: 429,
  PreconditionFailed: 412,
}

/** Ids a caller may choose: short and plain, so they can go into headers, logs and events as they are. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/
const safeId = (value: string | null) => (value && SAFE_ID.test(value) ? value : undefined)

/**
 * Every request gets an id: the caller's `x-request-id` (or the seed's `x-correlation-id`) when
 * it is a safe one (1-128 of `A-Za-z0-9._:-`), a fresh UUID otherwise. It is echoed on the reply,
 * passed to downstream calls, written into event headers and log lines.
 */
export const requestId = () =>
  new Elysia({ name: 'request-id' })
    .onRequest(({ request, set }) => {
      const id = safeId(request.headers.get('x-request-id')) ?? safeId(request.headers.get('x-correlation-id')) ?? crypto.randomUUID()
      set.headers['x-request-id'] = id
      set.headers['x-correlation-id'] = id
    })
    .derive({ as: 'global' }, ({ set }) => ({ requestId: String(set.headers['x-request-id']) }))

/** The headers set so far on a request (`set.headers`) as a Headers object. */
function headersOf(set: Record<string, unknown>): Headers {
  const headers = new Headers()
  for (const [k, v] of Object.entries(set)) if (typeof v === 'string') headers.set(k, v)
  return headers
}

function problemResponse(problem: Problem, set: Record<string, unknown>, request: Request): Response {
  noteStatus(request, problem.status)
  const headers = headersOf(set)
  headers.set('content-type', PROBLEM_CONTENT_TYPE)
  return new Response(JSON.stringify(problem), { status: problem.status, headers })
}

/** `/name` + body -> `body.name`; Elysia reports a union's every branch, so keep the first per field. */
function fieldErrors(error: Readonly<ValidationError>): FieldError[] {
  const seen = new Map<string, string>()
  for (const e of error.all) {
    const path = 'path' in e && e.path ? e.path.slice(1).replaceAll('/', '.') : ''
    const field = path ? `${error.type}.${path}` : error.type
    // a contract may word the message itself (`error`), instead of TypeBox's "Expected string to match '^…'"
    const own = 'schema' in e ? (e.schema as { error?: unknown }).error : undefined
    if (!seen.has(field)) seen.set(field, typeof own === 'string' ? own : 'message' in e ? e.message : 'is not valid')
  }
  return [...seen].map(([field, message]) => ({ field, message }))
}

const withBody = new Set(['POST', 'PUT', 'PATCH'])

const tooLarge = (max: number) => new DomainError('TooLarge', `The body is larger than ${max} bytes`)

/**
 * Reads at most `max` bytes of a body and stops (without reading the rest) when there are more;
 * a body announced as larger was refused before (onRequest below).
 */
async function readCapped(request: Request, max: number): Promise<string> {
  if (!request.body) return ''
  // a Content-Length at most `max` (larger ones were refused) frames the body: read it at once,
  // which costs a fraction of pulling a stream chunk by chunk
  if (request.headers.has('content-length') && !request.headers.has('transfer-encoding')) return request.text()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (let part = await reader.read(); !part.done; part = await reader.read()) {
    size += part.value.byteLength
    if (size > max) {
      reader.cancel().catch(() => {})
      throw tooLarge(max)
    }
    chunks.push(part.value)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

/**
 * Maps every failure to RFC 9457 problem+json in one place. Client mistakes get a 4xx naming
 * the field; our own faults get a bare 500 with the request id, the details go to the log only.
 */
export const problems = (log: Log, maxBodyBytes: number) =>
  new Elysia({ name: 'problems' })
    // a body announced as too large is refused before a byte of it is read
    .onRequest(({ request }) => {
      if (Number(request.headers.get('content-length') ?? 0) > maxBodyBytes) throw tooLarge(maxBodyBytes)
    })
    .onParse({ as: 'global' }, async ({ request }) => {
      // no route here takes a body on other methods; Deno hands Elysia an empty stream to parse
      if (!withBody.has(request.method)) return {}
      const contentType = request.headers.get('content-type')
      if (contentType && !/^application\/([a-z.+-]*\+)?json\b/i.test(contentType))
        throw new DomainError('UnsupportedMediaType', `Send the body as application/json, not ${contentType}`)
      const text = await readCapped(request, maxBodyBytes)
      try {
        return JSON.parse(text)
      } catch {
        throw new ParseError()
      }
    })
    // Elysia answers a 204 with an empty body, which Deno's Response refuses ("null body status
    // cannot have body"); an explicit null body works on both runtimes
    .mapResponse({ as: 'global' }, ({ set }) => {
      if (set.status === 204) return new Response(null, { status: 204, headers: headersOf(set.headers) })
    })
    .onError({ as: 'global' }, ({ code, error, set, request, path }) => {
      const requestId = typeof set.headers['x-request-id'] === 'string' ? set.headers['x-request-id'] : undefined
      const base = { instance: path, requestId }
      const reply = ({ status, slug, title, extra = {} }: { status: number; slug: string; title: string; extra?: Partial<Problem> }) =>
        problemResponse({ type: PROBLEM_BASE + slug, title, status, ...base, ...extra }, set.headers, request)

      // a DomainError thrown while parsing arrives wrapped in Elysia's ParseError
      const domain = error instanceof DomainError ? error : (error as { cause?: unknown })?.cause
      if (domain instanceof DomainError) {
        if (domain.retryAfterSeconds) set.headers['retry-after'] = String(domain.retryAfterSeconds)
        Object.assign(set.headers, domain.headers)
        const errors = domain.fields.length ? { errors: domain.fields } : {}
        return reply({ status: statusOfKind[domain.kind], slug: domain.kind.toLowerCase(), title: domain.message, extra: errors })
      }
      switch (code) {
        case 'VALIDATION': {
          if (error.type === 'response') break
          const errors = fieldErrors(error)
          const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ')
          return reply({ status: 400, slug: 'validation', title: 'Request is not valid', extra: { detail, errors } })
        }
        case 'PARSE':
          return reply({
            status: 400,
            slug: 'malformed-body',
            title: 'Body is not valid JSON',
            extra: { errors: [{ field: 'body', message: 'could not be parsed as JSON' }] },
          })
        case 'NOT_FOUND':
          return reply({ status: 404, slug: 'not-found', title: `No route for ${request.method} ${path}` })
        case 'INVALID_COOKIE_SIGNATURE':
        case 'INVALID_FILE_TYPE':
          return reply({ status: 400, slug: 'bad-request', title: 'Request is not valid' })
      }
      if (isTransient(error)) {
        // a dependency is away (database restarting, say): the client may simply try again
        log.warn('dependency unavailable', { requestId, method: request.method, path, err: String(error) })
        set.headers['retry-after'] = '2'
        return reply({ status: 503, slug: 'unavailable', title: 'A dependency is unavailable; try again shortly' })
      }
      log.error('unhandled error', { requestId, method: request.method, path, error })
      return reply({ status: 500, slug: 'internal', title: 'Internal error', extra: { detail: 'The failure was logged with this request id.' } })
    })
