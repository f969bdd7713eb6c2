import { expect } from 'bun:test'
import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { PROBLEM_CONTENT_TYPE, Problem } from '@shop/contracts'
import type { Reply } from './http.ts'

/** The body matches its contract schema; on failure the message lists what is off. */
export function expectSchema(schema: TSchema, value: unknown) {
  const errors = [...Value.Errors(schema, value)].map((e) => `${e.path}: ${e.message}`)
  expect(errors).toEqual([])
}

export function expectJson(res: Reply, status: number, schema: TSchema) {
  expect({ status: res.status, body: res.body }).toMatchObject({ status })
  expect(res.headers.get('content-type') ?? '').toStartWith('application/json')
  expectSchema(schema, res.body)
}

/** RFC 9457: status, content type, a valid problem body and, when given, the offending field. */
export function expectProblem(res: Reply, status: number, field?: string) {
  expect({ status: res.status, body: res.body }).toMatchObject({ status })
  expect(res.headers.get('content-type') ?? '').toStartWith(PROBLEM_CONTENT_TYPE)
  expectSchema(Problem, res.body)
  expect(res.body.status).toBe(status)
  expect(res.text).not.toMatch(/\n\s+at /) // no stack trace
  if (field) expect(res.body.errors?.map((e: { field: string }) => e.field)).toContain(field)
}
