/**
 * What every other part of the kit leans on: the errors a use case throws, retries and timeouts
 * that know a transient failure from a lasting one, and exact money.
 */
export { DomainError, conflict, invalid, notFound, preconditionFailed, unavailable, type ErrorKind } from './errors.ts'
export { isTransient, retrying, withTimeout } from './retry.ts'
export { cents, toMoney } from './money.ts'
