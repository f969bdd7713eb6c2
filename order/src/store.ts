import type { Order, OrderStatus } from '@shop/contracts'
import { grouped, type Outbox, type OutboxEvent, type Sql } from '@shop/kit'
import { moveOn, placedAs, awaitingStock, type Decision } from './lifecycle.ts'

type Row = Omit<Order, 'createdAt' | 'updatedAt'> & { createdAt: Date; updatedAt: Date; requestId: string | null }

const toOrder = (r: Row): Order => ({
  id: r.id,
  productId: r.productId,
  customerId: r.customerId ?? null,
  qty: r.qty,
  unitPrice: r.unitPrice,
  totalPrice: r.totalPrice,
  status: r.status,
  rejectionReason: r.rejectionReason ?? null,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
})

export type NewOrder = { id: string; productId: string; customerId: string | null; qty: number; unitPrice: string; requestId: string }
/** keys are per customer ('' when AUTH=off) */
export type IdempotencyKey = { customerId: string; key: string; hash: string }

/**
 * A status as a literal in the statement, not a parameter: the partial index of pending orders
 * (`orders_pending_by_id`) serves only a statement that names 'pending' itself, which a generic
 * plan of `status = $1` would not. The statuses come from the lifecycle, never from input.
 */
const statusLiteral = (sql: Sql, status: OrderStatus) => sql.unsafe(`'${status}'`)

type Placing = { order: NewOrder; event: OutboxEvent; idempotency?: IdempotencyKey }

/** `outbox`: order.created and order.cancelled leave through it, written with the change they report. */
export function createStore(sql: Sql, outbox: Outbox) {
  const insertTogether = grouped(async (placing: Placing[]): Promise<Order[]> => {
    const column = <T>(f: (p: Placing) => T) => placing.map(f)
    const ids = column((p) => p.order.id)
    const rows = await outbox.statement((sql, events) => sql<Row[]>`
      with placed as (
        insert into orders (id, product_id, customer_id, qty, unit_price, total_price, status, request_id)
        select id, product_id, customer_id, qty, unit_price, unit_price * qty, ${statusLiteral(sql, placedAs)}, request_id
        from unnest(${ids}::uuid[], ${column((p) => p.order.productId)}::uuid[], ${column((p) => p.order.customerId)}::text[],
                    ${column((p) => p.order.qty)}::int[], ${column((p) => p.order.unitPrice)}::numeric[],
                    ${column((p) => p.order.requestId)}::text[])
          as n(id, product_id, customer_id, qty, unit_price, request_id)
        returning *
      ),
      keyed as (
        insert into idempotency_keys (customer_id, key, request_hash, order_id)
        select k.customer_id, k.key, k.hash, placed.id
        from unnest(${column((p) => p.idempotency?.customerId ?? null)}::text[], ${column((p) => p.idempotency?.key ?? null)}::text[],
                    ${column((p) => p.idempotency?.hash ?? null)}::text[], ${ids}::uuid[])
          as k(customer_id, key, hash, order_id)
        join placed on placed.id = k.order_id
        where k.key is not null
      ),
      announced as (${events.insert(column((p) => p.event))})
      select * from placed`)
    const byId = new Map(rows.map((r) => [r.id, toOrder(r)]))
    return ids.map((id) => byId.get(id)!)
  })

  return {
    /**
     * The order, its idempotency key and its order.created event in one statement, so either
     * all three exist or none; orders placed at the same moment share that statement (one round
     * trip and one commit for all). Totals are computed by PostgreSQL in exact numeric. A reused
     * key fails its statement on the unique index (and `grouped` then retries the others alone).
     */
    insertPending: (order: NewOrder, event: OutboxEvent, idempotency?: IdempotencyKey): Promise<Order> =>
      insertTogether({ order, event, idempotency }),

    /** Orders waiting for their stock answer (a partial index covers them). */
    countPending: async () => (await sql<{ n: number }[]>`select count(*)::int as n from orders where status = ${statusLiteral(sql, awaitingStock)}`)[0]!.n,

    async find(id: string): Promise<Order | undefined> {
      const [row] = await sql<Row[]>`select * from orders where id = ${id}`
      return row && toOrder(row)
    },

    /**
     * The live order behind a key, in one round trip; an expired key is removed on the way, so
     * it may be used again without standing in the new order's way.
     */
    async findByIdempotencyKey(customerId: string, key: string, ttlHours: number): Promise<{ hash: string; order: Order } | undefined> {
      const [row] = await sql<(Row & { requestHash: string })[]>`
        with expired as (
          delete from idempotency_keys
          where customer_id = ${customerId} and key = ${key} and created_at <= now() - make_interval(hours => ${ttlHours})
        )
        select o.*, k.request_hash from idempotency_keys k join orders o on o.id = k.order_id
        where k.customer_id = ${customerId} and k.key = ${key} and k.created_at > now() - make_interval(hours => ${ttlHours})`
      return row && { hash: row.requestHash, order: toOrder(row) }
    },

    forgetExpiredKeys: (ttlHours: number) =>
      sql`delete from idempotency_keys where created_at <= now() - make_interval(hours => ${ttlHours})`,

    /** Keyset page of one product's orders, oldest first (ids are UUIDv7). */
    async listByProduct(productId: string, limit: number, after?: string) {
      const rows = await sql<Row[]>`
        select * from orders where product_id = ${productId} ${after ? sql`and id > ${after}` : sql``}
        order by id limit ${limit + 1}`
      const items = rows.slice(0, limit).map(toOrder)
      return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null }
    },

    /**
     * Settles orders on their stock answers (one decision per order: the lifecycle's
     * firstDecisionPerOrder), in one statement: only while an order is pending, so a repeated or
     * late answer finds nothing to change. Returns the orders it changed.
     * (`id = any(...)` keeps the planner on the primary key: joined to the decisions alone it once
     * chose a hash join that read the whole table.)
     */
    async settle(decisions: Decision[]): Promise<Order[]> {
      const ids = decisions.map((d) => d.orderId)
      const rows = await sql<Row[]>`
        update orders o set status = d.status, rejection_reason = d.reason, updated_at = now()
        from unnest(${ids}::uuid[], ${decisions.map((d) => d.status)}::text[], ${decisions.map((d) => d.reason)}::text[]) as d(id, status, reason)
        where o.id = any(${ids}::uuid[]) and o.id = d.id and o.status = ${statusLiteral(sql, awaitingStock)}
        returning o.*`
      return rows.map(toOrder)
    },

    /**
     * Pending orders whose stock answer is overdue get their order.created sent again (product
     * answers a repeated order with what it decided). Overdue means `seconds` after the order,
     * then twice, four times as long after each resend, capped at `maxSeconds`, so a long outage
     * of product does not bring a resend of every order every few seconds. An order whose event
     * is still in the outbox is skipped: the broker has not taken it yet, and another copy would
     * only wait behind it. Rows are claimed with SKIP LOCKED, so replicas do not resend the same
     * order together; at most `limit` per call.
     */
    resendStale(
      { seconds, maxSeconds, limit }: { seconds: number; maxSeconds: number; limit: number },
      event: (o: Order, requestId: string | null) => OutboxEvent,
    ): Promise<number> {
      return outbox.transaction(async (tx, events) => {
        const rows = await tx<Row[]>`
          update orders set last_asked_at = now(), resends = resends + 1
          where id in (
            select o.id from orders o
            where o.status = ${statusLiteral(sql, awaitingStock)}
              and coalesce(o.last_asked_at, o.created_at)
                < now() - make_interval(secs => least(${seconds}::float8 * power(2, least(o.resends, 20)), ${maxSeconds}::float8))
              and not ${events.waiting('order.created', 'orderId', tx`o.id::text`)}
            order by coalesce(o.last_asked_at, o.created_at) limit ${limit} for update of o skip locked)
          returning *`
        events.add(...rows.map((r) => event(toOrder(r), r.requestId)))
        return rows.length
      })
    },

    /** The lifecycle's cancel (confirmed -> cancelled) with its order.cancelled event, in one transaction; undefined when the order was not confirmed. */
    cancel(orderId: string, event: (o: Order) => OutboxEvent): Promise<Order | undefined> {
      const { from, to } = moveOn('cancel')
      return outbox.transaction(async (tx, events) => {
        const [row] = await tx<Row[]>`
          update orders set status = ${to}, updated_at = now()
          where id = ${orderId} and status = ${statusLiteral(sql, from)} returning *`
        if (!row) return undefined
        const order = toOrder(row)
        events.add(event(order))
        return order
      })
    },
  }
}

export type Store = ReturnType<typeof createStore>
