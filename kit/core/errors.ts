/**
 * The errors a use case throws (`DomainError` and its kinds), which http.ts turns into
 * problem+json answers.
 */
import type { FieldError } from '@shop/contracts'

export type ErrorKind =
  | 'NotFound'
  | 'Conflict'
  | 'Invalid'
  | 'Unavailable'
  | 'UnsupportedMediaType'
  | 'Unauthorized'
  | 'Forbidden'
  | 'TooLarge'
  | 'TooManyRequests'
  | 'PreconditionFailed'

/**
 * A failure the caller can act on. Use cases throw these; the HTTP layer maps the kind to a
 * status once (see http.ts). Anything else that is thrown is our bug and becomes a bare 500.
 */
export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly fields: FieldError[] = [],
    readonly retryAfterSeconds?: number,
    /** headers the answer must carry (WWW-Authenticate, RateLimit-*) */
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = kind
  }
}

export const notFound = (what: string) => new DomainError('NotFound', `${what} was not found`)
export const conflict = (message: string, fields: FieldError[] = []) => new DomainError('Conflict', message, fields)
/** A conditional request (If-Match, say) whose condition does not hold; `headers` can say the current state (ETag). */
export const preconditionFailed = (field: string, message: string, headers: Record<string, string> = {}) =>
  new DomainError('PreconditionFailed', message, [{ field, message }], undefined, headers)
export const invalid = (field: string, message: string) => new DomainError('Invalid', message, [{ field, message }])
export const unavailable = (message: string, retryAfterSeconds = 1) =>
  new DomainError('Unavailable', message, [], retryAfterSeconds)
