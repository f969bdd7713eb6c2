import type { Order, OrderPage, OrderStatus } from '@shop/contracts'
import { grouped, type Outbox, type OutboxEvent, type Sql, type Tx } from '@shop/kit'
import { moveOn, placedAs, awaitingStock, type Decision } from './lifecycle.ts'
import { settlingSteps, stepOf, type NewStep, type StoredStep } from './timeline.ts'

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

export type NewOrder = { id: string; productId: string; customerId: string | null; qty: number; unitPrice: string; requestId: string; traceId: string | null }
/** keys are per customer ('' when AUTH=off) */
export type IdempotencyKey = { customerId: string; key: string; hash: string }

/**
 * A status as a literal in the statement, not a parameter: the partial index of pending orders
 * (`orders_pending_by_id`) serves only a statement that names 'pending' itself, which a generic
 * plan of `status = $1` would not. The statuses come from the lifecycle, never from input.
 */
const statusLiteral = (sql: Sql, status: OrderStatus) => sql.unsafe(`'${status}'`)

type Placing = { order: NewOrder; event: OutboxEvent; idempotency?: IdempotencyKey }

/** A stock answer to settle its order with: the decision that counts, its event, and how many answers arrived for the order. */
export type Answer = { decision: Decision; eventId: string; answers: number }

/** What an order's timeline is read with: the order's own counts and the steps after a given one. */
export type Journey = {
  status: OrderStatus
  customerId: string | null
  requestId: string | null
  traceId: string | null
  resends: number
  retries: number
  steps: StoredStep[]
}

/** Steps that change no status, appended to their orders; see `appendSteps`. */
export type StepOfOrder = NewStep & { orderId: string }

/**
 * Appends steps to their orders, in one statement: each order's row is locked (in id order, as
 * every writer of steps locks them, so two never wait on each other in a circle), its
 * `last_step` counts them, and they take the numbers after it, so they are seen in the order they
 * commit. A step about an event already recorded (a redelivery) is left out. Returns the orders
 * that got one. `sql` may be a transaction's (the relay's, recording what the broker confirmed).
 */
export async function appendSteps(sql: Sql | Tx, steps: StepOfOrder[]): Promise<string[]> {
  if (!steps.length) return []
  const col = <T>(f: (s: StepOfOrder) => T) => steps.map(f)
  const rows = await sql<{ id: string }[]>`
    with given as (
      select * from unnest(${col((s) => s.orderId)}::uuid[], ${col((s) => s.kind)}::text[], ${col((s) => s.eventId)}::uuid[],
                           ${col((s) => s.data) as never}::jsonb[]) with ordinality as g(order_id, kind, event_id, data, n)
      where g.event_id is null or not exists (select 1 from order_steps s where s.order_id = g.order_id and s.event_id = g.event_id)
    ),
    locked as (select o.id from orders o where o.id = any(${col((s) => s.orderId)}::uuid[]) order by o.id for no key update),
    counted as (select order_id, count(*)::int as k from given group by order_id),
    bumped as (
      update orders o set last_step = o.last_step + c.k
      from counted c join locked l on l.id = c.order_id where o.id = c.order_id
      returning o.id, o.last_step, c.k
    ),
    stepped as (
      insert into order_steps (order_id, seq, kind, at, event_id, data)
      select g.order_id, b.last_step - b.k + row_number() over (partition by g.order_id order by g.n), g.kind, clock_timestamp(), g.event_id, g.data
      from given g join bumped b on b.id = g.order_id
      on conflict do nothing
    )
    select id from bumped`
  return rows.map((r) => r.id)
}

/** `outbox`: order.created and order.cancelled leave through it, written with the change they report. */
export function createStore(sql: Sql, outbox: Outbox) {
  const insertTogether = grouped(async (placing: Placing[]): Promise<Order[]> => {
    const column = <T>(f: (p: Placing) => T) => placing.map(f)
    const ids = column((p) => p.order.id)
    const rows = await outbox.statement((sql, events) => sql<Row[]>`
      with placed as (
        insert into orders (id, product_id, customer_id, qty, unit_price, total_price, status, request_id, trace_id, last_step)
        select id, product_id, customer_id, qty, unit_price, unit_price * qty, ${statusLiteral(sql, placedAs)}, request_id, trace_id, 1
        from unnest(${ids}::uuid[], ${column((p) => p.order.productId)}::uuid[], ${column((p) => p.order.customerId)}::text[],
                    ${column((p) => p.order.qty)}::int[], ${column((p) => p.order.unitPrice)}::numeric[],
                    ${column((p) => p.order.requestId)}::text[], ${column((p) => p.order.traceId)}::text[])
          as n(id, product_id, customer_id, qty, unit_price, request_id, trace_id)
        returning *
      ),
      accepted as (insert into order_steps (order_id, seq, kind, at) select id, 1, ${stepOf.placed}, created_at from placed),
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
     * The order, its idempotency key, its first step (accepted) and its order.created event in
     * one statement, so either all exist or none; orders placed at the same moment share that statement (one round
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
     * What an order's timeline and event stream read, in one statement (one snapshot: a status
     * read here has its step among those read with it): the order's counts and its steps after
     * `after` (0: all), in commit order. Undefined when there is no such order.
     */
    async journey(id: string, after = 0): Promise<Journey | undefined> {
      const rows = await sql<(Omit<Journey, 'steps' | 'retries'> & { repeatedAnswers: number } & Partial<StoredStep>)[]>`
        select o.status, o.customer_id, o.request_id, o.trace_id, o.resends, o.repeated_answers, s.seq, s.kind, s.at, s.event_id, s.data
        from orders o left join order_steps s on s.order_id = o.id and s.seq > ${after}
        where o.id = ${id} order by s.seq`
      const [first] = rows
      if (!first) return undefined
      const { status, customerId, requestId, traceId, resends, repeatedAnswers } = first
      const steps = rows.flatMap((r) => (r.seq == null ? [] : [{ seq: r.seq, kind: r.kind!, at: r.at!, eventId: r.eventId ?? null, data: r.data ?? {} }]))
      return { status, customerId: customerId ?? null, requestId: requestId ?? null, traceId: traceId ?? null, resends, retries: repeatedAnswers, steps }
    },

    /** Steps that change no status (product gave the stock back, say); see `appendSteps`. */
    appendSteps: (steps: StepOfOrder[]) => appendSteps(sql, steps),

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

    /**
     * Keyset page of one product's orders, oldest first (ids are UUIDv7), with how many orders the
     * product has in all, in one statement, so the count and the page are of the same snapshot. The
     * count is its own scalar subquery over the whole product (a `count(*) over ()` would count only
     * the rows after the cursor), run once and read from `orders_by_product`; the page is joined to
     * it from one row, so a page with no orders still carries the count.
     */
    async listByProduct(productId: string, limit: number, after?: string): Promise<OrderPage> {
      const rows = await sql<((Row & { total: number }) | { id: null; total: number })[]>`
        select (select count(*) from orders where product_id = ${productId})::int as total, page.*
        from (values (1)) as one (n)
        left join (
          select * from orders where product_id = ${productId} ${after ? sql`and id > ${after}` : sql``}
          order by id limit ${limit + 1}
        ) page on true
        order by page.id`
      const found = rows.filter((r): r is Row & { total: number } => r.id !== null)
      const items = found.slice(0, limit).map(toOrder)
      return { items, nextCursor: found.length > limit ? items[items.length - 1]!.id : null, total: rows[0]!.total }
    },

    /**
     * Settles orders on their stock answers (one per order, the one that counts: the timeline's
     * answersPerOrder), in one statement: an order still pending takes the answer's status and
     * its two steps (the answer, the status; the timeline's settlingSteps); any other answer finds
     * nothing to change and counts as a retry. Rows are locked in id order first, and whether an
     * order settles is read from the row as locked, so replicas settling the same order together
     * settle it once and count the other as a retry. Returns the orders it settled.
     * (`id = any(...)` keeps the planner on the primary key: joined to the answers alone it once
     * chose a hash join that read the whole table.)
     */
    async settle(answers: Answer[]): Promise<Order[]> {
      if (!answers.length) return []
      const ids = answers.map((a) => a.decision.orderId)
      const steps = answers.map((a) => settlingSteps(a.decision, a.eventId))
      const rows = await sql<(Row & { settles: boolean })[]>`
        with d as (
          select * from unnest(${ids}::uuid[], ${answers.map((a) => a.decision.status)}::text[], ${answers.map((a) => a.decision.reason)}::text[],
                               ${answers.map((a) => a.answers)}::int[], ${steps.map(([answer]) => answer.kind)}::text[], ${answers.map((a) => a.eventId)}::uuid[],
                               ${steps.map(([answer]) => answer.data) as never}::jsonb[], ${steps.map(([, status]) => status.kind)}::text[],
                               ${steps.map(([, status]) => status.data) as never}::jsonb[])
            as d(id, status, reason, answers, answer_kind, answer_event_id, answer_data, status_kind, status_data)
        ),
        locked as (
          select o.id, o.status = ${statusLiteral(sql, awaitingStock)} as settles from orders o
          where o.id = any(${ids}::uuid[]) order by o.id for no key update
        ),
        changed as (
          update orders o set
            status = case when l.settles then d.status else o.status end,
            rejection_reason = case when l.settles then d.reason else o.rejection_reason end,
            updated_at = case when l.settles then now() else o.updated_at end,
            repeated_answers = o.repeated_answers + d.answers - l.settles::int,
            last_step = o.last_step + 2 * l.settles::int
          from d join locked l on l.id = d.id
          where o.id = any(${ids}::uuid[]) and o.id = d.id
          returning o.*, l.settles, d.answer_kind, d.answer_event_id, d.answer_data, d.status_kind, d.status_data
        ),
        stepped as (
          insert into order_steps (order_id, seq, kind, event_id, data)
          select id, last_step - 1, answer_kind, answer_event_id, answer_data from changed where settles
          union all
          select id, last_step, status_kind, null, status_data from changed where settles
        )
        select * from changed where settles`
      return rows.map(toOrder)
    },

    /**
     * Pending orders whose stock answer is overdue get their order.created sent again (product
     * answers a repeated order with what it decided). Overdue means `seconds` after the order,
     * then twice, four times as long after each resend, capped at `maxSeconds`, so a long outage
     * of product does not bring a resend of every order every few seconds. An order whose event
     * is still in the outbox is skipped: the broker has not taken it yet, and another copy would
     * only wait behind it. Rows are claimed with SKIP LOCKED, so replicas do not resend the same
     * order together; at most `limit` per call. Each resend is a step of its order.
     */
    resendStale(
      { seconds, maxSeconds, limit }: { seconds: number; maxSeconds: number; limit: number },
      event: (o: Order, requestId: string | null) => OutboxEvent,
    ): Promise<string[]> {
      return outbox.transaction(async (tx, events) => {
        const rows = await tx<Row[]>`
          with resent as (
            update orders set last_asked_at = now(), resends = resends + 1, last_step = last_step + 1
            where id in (
              select o.id from orders o
              where o.status = ${statusLiteral(sql, awaitingStock)}
                and coalesce(o.last_asked_at, o.created_at)
                  < now() - make_interval(secs => least(${seconds}::float8 * power(2, least(o.resends, 20)), ${maxSeconds}::float8))
                and not ${events.waiting('order.created', 'orderId', tx`o.id::text`)}
              order by coalesce(o.last_asked_at, o.created_at) limit ${limit} for update of o skip locked)
            returning *
          ),
          stepped as (
            insert into order_steps (order_id, seq, kind, data) select id, last_step, ${stepOf.resent}, jsonb_build_object('resend', resends) from resent
          )
          select * from resent`
        events.add(...rows.map((r) => event(toOrder(r), r.requestId)))
        return rows.map((r) => r.id)
      })
    },

    /** The lifecycle's cancel (confirmed -> cancelled) with its step and its order.cancelled event, in one transaction; undefined when the order was not confirmed. */
    cancel(orderId: string, event: (o: Order) => OutboxEvent): Promise<Order | undefined> {
      const { from, to } = moveOn('cancel')
      return outbox.transaction(async (tx, events) => {
        const [row] = await tx<Row[]>`
          with cancelled as (
            update orders set status = ${to}, updated_at = now(), last_step = last_step + 1
            where id = ${orderId} and status = ${statusLiteral(sql, from)} returning *
          ),
          stepped as (insert into order_steps (order_id, seq, kind, at) select id, last_step, ${stepOf.cancelled}, updated_at from cancelled)
          select * from cancelled`
        if (!row) return undefined
        const order = toOrder(row)
        events.add(event(order))
        return order
      })
    },
  }
}

export type Store = ReturnType<typeof createStore>
