import { describe, expect, it } from 'bun:test'
import { isTransient } from '../core/retry.ts'

// What is retried for as long as it lasts (a dependency's state) and what is poison (the same
// failure every time): only the latter may ever reach a dead-letter queue.
describe('transient errors', () => {
  const transient: [string, string][] = [
    ['ECONNREFUSED', 'connection refused'],
    ['CONNECTION_CLOSED', "postgres.js' closed connection"],
    ['08006', 'connection failure'],
    ['53300', 'too many connections'],
    ['57P01', 'admin shutdown'],
    ['57P03', 'the database system is starting up'],
    ['55000', 'database is not accepting connections'],
    ['55P03', 'lock not available (lock_timeout)'],
    ['57014', 'canceling statement due to statement timeout'],
    ['25006', 'cannot execute in a read-only transaction'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock detected'],
  ]
  for (const [code, what] of transient)
    it(`when PostgreSQL or the network says ${code} (${what}), then it is retried`, () => expect(isTransient({ code })).toBe(true))

  const poison: [string, string][] = [
    ['23505', 'unique violation'],
    ['23514', 'check violation'],
    ['22P02', 'invalid text representation'],
    ['42P01', 'undefined table'],
  ]
  for (const [code, what] of poison)
    it(`when PostgreSQL says ${code} (${what}), then it is not transient`, () => expect(isTransient({ code })).toBe(false))

  it('when an error has no code, then it is not transient', () => expect(isTransient(new Error('boom'))).toBe(false))
})
