import type postgres from 'postgres'
import { eventually } from '../src/wait.ts'

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

/** Waits until no order of the product is pending (or the deadline passes), timing the drain. */
export async function drain(orderDb: postgres.Sql, productId: string, timeoutMs = 60_000): Promise<number> {
  const started = performance.now()
  await eventually(
    async () => (await orderDb`select count(*)::int as n from orders where product_id = ${productId} and status = 'pending'`)[0]!.n === 0,
    { timeout: timeoutMs, interval: 50, what: 'saga drained' },
  ).catch(() => undefined)
  return (performance.now() - started) / 1000
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
