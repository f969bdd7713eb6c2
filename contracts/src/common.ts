import { Type as t, type Static } from '@sinclair/typebox'

/** Ids are UUIDs (v7, so they sort by creation time and serve as keyset cursors). */
export const Uuid = t.String({ format: 'uuid', examples: ['0192f5a4-3c1e-7d2a-9b61-5a0f3e8c1d24'] })

/**
 * Money travels as a decimal string with at most two fraction digits, so no client ever sees
 * 0.1 + 0.2. Requests may also send a JSON number for compatibility with the seed API; the
 * service turns it into the same exact decimal or rejects it.
 */
export const MoneyPattern = '^(0|[1-9][0-9]{0,9})(\\.[0-9]{1,2})?$'
export const Money = t.String({
  pattern: MoneyPattern,
  description: 'exact decimal amount, at most 2 fraction digits',
  examples: ['19.99'],
})
export const MoneyInput = t.Union([Money, t.Number({ minimum: 0, maximum: 9_999_999_999.99 })], {
  description: 'decimal string (preferred) or JSON number with at most 2 fraction digits',
  examples: ['19.99'],
})

/**
 * Text a person typed: no control characters (NUL would be refused by PostgreSQL) and no lone
 * UTF-16 surrogate (it would be stored as U+FFFD). A surrogate pair, an emoji say, is fine. The
 * pattern means the same with and without the regex `u` flag.
 */
export const TextPattern = '^(?:[^\\u0000-\\u001F\\u007F\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$'
export const Text = (options: { minLength: number; maxLength: number; examples: string[]; description?: string }) =>
  t.String({ pattern: TextPattern, error: 'must be text without control characters or lone surrogates', ...options })

/** Who placed an order: the `sub` of the customer's access token. */
export const CustomerId = t.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$', examples: ['customer-42'] })

/** Stock and order quantities: whole units, never negative. */
export const Qty = t.Integer({ minimum: 0, maximum: 1_000_000_000, examples: [10] })
export const PositiveQty = t.Integer({ minimum: 1, maximum: 1_000_000, examples: [1] })

export const Timestamp = t.String({ format: 'date-time', examples: ['2026-11-25T10:00:00.000Z'] })

export const IdParams = t.Object({ id: Uuid })

/**
 * Keyset pagination: `cursor` is the `nextCursor` of the previous page. `limit` stays a string
 * as query strings are, so a bad one is reported by name (`query.limit`), not as a coercion error.
 */
export const PageQuery = t.Object({
  limit: t.Optional(t.String({ pattern: '^([1-9][0-9]?|100)$', description: '1 to 100, default 20', examples: ['20'] })),
  cursor: t.Optional(Uuid),
})

export const pageOf = <T extends ReturnType<typeof t.Object>>(item: T) =>
  t.Object({
    items: t.Array(item),
    nextCursor: t.Union([Uuid, t.Null()], { description: 'pass as `cursor` for the next page; null on the last one' }),
  })

export type PageQuery = Static<typeof PageQuery>
export const pageLimit = (q: PageQuery) => (q.limit ? Number(q.limit) : 20)
