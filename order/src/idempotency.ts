import { createHash } from 'node:crypto'
import type { CreateOrder } from '@shop/contracts'

/**
 * What an Idempotency-Key was first sent with, as a hash: a request that reuses the key with
 * another body is refused (422). The fields are hashed in a fixed order, so the order of keys in
 * the JSON does not matter, and the price as its text, so 19.99 and "19.99" are one request.
 * Stored hashes outlive a release (IDEMPOTENCY_TTL_HOURS): the formula never changes.
 */
export const requestHashOf = (input: CreateOrder): string =>
  createHash('sha256')
    .update(JSON.stringify([input.productId, input.qty, input.price === undefined ? null : String(input.price)]))
    .digest('hex')
