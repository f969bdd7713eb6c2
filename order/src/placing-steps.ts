/**
 * The steps of placing an order that order's histogram `shop_order_placing_seconds{step}` times,
 * in the order they run: access (arrival to the handler: auth, rate limit, body), the product
 * check, the insert, the cache invalidation. order's own instrumentation, not a contract: the
 * label values its dashboards and the bench read (`@shop/order/placing-steps`).
 */
export const PLACING_STEPS = ['access', 'product_check', 'insert', 'cache_invalidation'] as const
export type PlacingStep = (typeof PLACING_STEPS)[number]
