import { Type as t, type Static } from '@sinclair/typebox'

/**
 * The steps of placing an order that order's histogram `shop_order_placing_seconds{step}` times,
 * in the order they run: access (arrival to the handler: auth, rate limit, body), the product
 * check, the insert, the cache invalidation. Label values dashboards and the bench read.
 */
export const PlacingStep = t.Union([t.Literal('access'), t.Literal('product_check'), t.Literal('insert'), t.Literal('cache_invalidation')])
export type PlacingStep = Static<typeof PlacingStep>
export const PLACING_STEPS: readonly PlacingStep[] = PlacingStep.anyOf.map((step) => step.const)
