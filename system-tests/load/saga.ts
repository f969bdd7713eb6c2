import type postgres from 'postgres'
import { eventually } from '@shop/testkit'

export type SagaSummary = {
  accepted: number
  confirmed: number
  rejected: number
  pending: number
  drainSeconds: number
  lagP50Ms: number
  lagP99Ms: number
  initialStock: number
  stock: number
  confirmedQty: number
  invariantHolds: boolean
}

/**
 * Waits until no order of the product is pending and none has been added for `quietMs`, and
 * returns the seconds from the call to the first moment that held. (The load generator stops
 * without waiting for its last replies: orders it sent may still be landing after it returned.)
 */
export async function drain(orderDb: postgres.Sql, productId: string, { timeoutMs = 60_000, quietMs = 1_000 } = {}): Promise<number> {
  const started = performance.now()
  let drainedAt: number | undefined
  let seen = -1
  await eventually(
    async () => {
      const [r] = await orderDb<{ total: number; pending: number }[]>`
        select count(*)::int as total, count(*) filter (where status = 'pending')::int as pending
        from orders where product_id = ${productId}`
      const now = performance.now()
      if (r!.pending > 0) drainedAt = undefined
      else if (r!.total !== seen || drainedAt === undefined) drainedAt = now
      seen = r!.total
      return drainedAt !== undefined && now - drainedAt >= quietMs
    },
    { timeout: timeoutMs, interval: 50, what: 'saga drained' },
  ).catch(() => undefined)
  return ((drainedAt ?? performance.now()) - started) / 1000
}

/** Final states, event lag (order created -> final state) and the stock invariant. */
export async function summarize(
  orderDb: postgres.Sql,
  productDb: postgres.Sql,
  productId: string,
  initialStock: number,
  drainSeconds: number,
): Promise<SagaSummary> {
  const [s] = await orderDb<{ accepted: number; confirmed: number; rejected: number; pending: number; confirmedQty: number; lagP50Ms: number; lagP99Ms: number }[]>`
    select count(*)::int as accepted,
           count(*) filter (where status = 'confirmed')::int as confirmed,
           count(*) filter (where status = 'rejected')::int as rejected,
           count(*) filter (where status = 'pending')::int as pending,
           coalesce(sum(qty) filter (where status = 'confirmed'), 0)::int as confirmed_qty,
           coalesce(percentile_cont(0.5) within group (order by extract(epoch from updated_at - created_at))
             filter (where status <> 'pending'), 0) * 1000 as lag_p50_ms,
           coalesce(percentile_cont(0.99) within group (order by extract(epoch from updated_at - created_at))
             filter (where status <> 'pending'), 0) * 1000 as lag_p99_ms
    from orders where product_id = ${productId}`
  const [p] = await productDb<{ qty: number }[]>`select qty from products where id = ${productId}`
  const stock = p!.qty
  return {
    ...s!,
    lagP50Ms: Math.round(s!.lagP50Ms),
    lagP99Ms: Math.round(s!.lagP99Ms),
    drainSeconds,
    initialStock,
    stock,
    invariantHolds: s!.confirmedQty + stock === initialStock && stock >= 0,
  }
}
