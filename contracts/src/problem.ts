import { Type as t, type Static } from '@sinclair/typebox'

/** One offending input: a JSON pointer-ish path such as `body.qty` or `params.id`. */
export const FieldError = t.Object({
  field: t.String({ examples: ['body.qty'] }),
  message: t.String({ examples: ['Expected integer'] }),
})

/** RFC 9457 problem details, served as `application/problem+json`. */
export const Problem = t.Object(
  {
    type: t.String({ examples: ['https://shop.example/problems/validation'] }),
    title: t.String({ examples: ['Request is not valid'] }),
    status: t.Integer({ minimum: 400, maximum: 599, examples: [400] }),
    detail: t.Optional(t.String()),
    instance: t.Optional(t.String({ examples: ['/products/abc'] })),
    requestId: t.Optional(t.String()),
    errors: t.Optional(t.Array(FieldError)),
  },
  { description: 'RFC 9457 problem details' },
)

/** A 400: the same problem, always with the list of offending fields. */
export const ValidationProblem = t.Composite([Problem, t.Object({ errors: t.Array(FieldError, { minItems: 1 }) })], {
  description: 'RFC 9457 problem details naming every offending field',
})

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

export type FieldError = Static<typeof FieldError>
export type Problem = Static<typeof Problem>
export type ValidationProblem = Static<typeof ValidationProblem>
