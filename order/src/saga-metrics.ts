import type { Order } from '@shop/contracts'
import type { PlacingStep } from './placing-steps.ts'
import type { Metrics } from '@shop/kit'

/** The saga as Prometheus sees it: orders placed, how they ended, how long that took, how many wait. */
export function sagaMetrics(metrics: Metrics, countPending: () => Promise<number>) {
  const placed = metrics.counter('shop_orders_placed_total', 'Orders accepted (pending)')
  const settled = metrics.counter('shop_orders_settled_total', 'Orders that reached confirmed or rejected', ['status', 'reason'])
  const cancelled = metrics.counter('shop_orders_cancelled_total', 'Confirmed orders cancelled')
  const resent = metrics.counter('shop_orders_resent_total', 'order.created sent again for a pending order whose stock answer was overdue')
  const toFinal = metrics.histogram(
    'shop_order_time_to_final_seconds',
    'Time from an order placed to confirmed or rejected',
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  )
  const placing = metrics.histogram(
    'shop_order_placing_seconds',
    'Where POST /orders spends its time, by step reached: access (arrival to handler: auth, rate limit, body), product_check, insert, cache_invalidation',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    ['step'],
  )
  metrics.gauge('shop_orders_pending', 'Orders waiting for their stock answer now', async (g) => g.set(await countPending()))
  return {
    placed: () => placed.inc(),
    resent: (n: number) => resent.inc(n),
    /**
     * Observes one step of placing an order, begun at `since` (`performance.now()`), as done now;
     * returns now, when the next step begins.
     */
    stepDone(step: PlacingStep, since: number): number {
      const now = performance.now()
      placing.observe({ step }, (now - since) / 1000)
      return now
    },
    cancelled: () => cancelled.inc(),
    settled(order: Order) {
      settled.inc({ status: order.status, reason: order.rejectionReason ?? 'none' })
      toFinal.observe((Date.parse(order.updatedAt) - Date.parse(order.createdAt)) / 1000)
    },
  }
}

export type SagaMetrics = ReturnType<typeof sagaMetrics>
