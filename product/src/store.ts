import type { Product, StockRejectionReason } from '@shop/contracts'
import { eventsCommitted, isUniqueViolation, outboxRow, type OutboxEvent, type Sql, type Tx } from '@shop/kit'

type Row = { id: string; name: string; price: string; qty: number; createdAt: Date; updatedAt: Date }

const toProduct = (r: Row): Product => ({
  id: r.id,
  name: r.name,
  price: r.price,
  qty: r.qty,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
})

export type NewProduct = { id: string; name: string; price: string; qty: number }
export type ProductChanges = Partial<Pick<NewProduct, 'name' | 'price' | 'qty'>>
export type StockRequest = { orderId: string; eventId: string; productId: string; qty: number }
export type StockOutcome = { status: 'reserved' } | { status: 'rejected'; reason: StockRejectionReason } | { status: 'duplicate' }

type Answers = { reserved: OutboxEvent; rejected: OutboxEvent }

/**
 * Takes stock for one order in one statement: the conditional UPDATE never goes below zero,
 * the reservation row (primary key = order id) makes a second delivery take nothing, and the
 * answer (`stock.reserved` or `stock.rejected` with the reason) goes into the outbox in the
 * same statement. A second delivery is answered again with what was decided the first time,
 * so an order whose answer got lost can ask again. Two deliveries racing each other: the loser
 * hits the unique key, undone whole, and is answered on its retry.
 */
async function reserveStatement(q: Sql | Tx, req: StockRequest, answers: Answers): Promise<StockOutcome> {
  const { orderId, eventId, productId, qty } = req
  const reserved = outboxRow(answers.reserved)
  const rejected = outboxRow(answers.rejected)
  const [outcome] = await q<{ status: 'reserved' | 'rejected'; reason: StockRejectionReason | null; fresh: boolean }[]>`
    with existing as (select status, reason from reservations where order_id = ${orderId}),
    taken as (
      update products set qty = qty - ${qty}, updated_at = now()
      where id = ${productId} and qty >= ${qty} and not exists (select 1 from existing)
      returning id
    ),
    decided as (
      insert into reservations (order_id, event_id, product_id, qty, status, reason)
      select ${orderId}, ${eventId}, ${productId}, ${qty},
        case when exists (select 1 from taken) then 'reserved' else 'rejected' end,
        case when exists (select 1 from taken) then null
             when exists (select 1 from products where id = ${productId}) then 'insufficient_stock'
             else 'product_not_found' end
      where not exists (select 1 from existing)
      returning status, reason
    ),
    outcome as (
      select status, reason, true as fresh from decided
      union all -- released means it was reserved, then given back on cancel
      select case when status = 'rejected' then 'rejected' else 'reserved' end, reason, false from existing
    ),
    answered as (
      insert into outbox (event_id, routing_key, payload, headers)
      select
        case when d.status = 'reserved' then ${reserved.event_id}::uuid else ${rejected.event_id}::uuid end,
        case when d.status = 'reserved' then ${reserved.routing_key} else ${rejected.routing_key} end,
        case when d.status = 'reserved' then ${q.json(reserved.payload as never)}::jsonb
             else ${q.json(rejected.payload as never)}::jsonb || jsonb_build_object('reason', d.reason) end,
        ${q.json(reserved.headers)}::jsonb
      from outcome d
    )
    select status, reason, fresh from outcome`
  if (!outcome!.fresh) return { status: 'duplicate' }
  return outcome!.status === 'reserved' ? { status: 'reserved' } : { status: 'rejected', reason: outcome!.reason! }
}

type Decided = { req: StockRequest; answer: OutboxEvent; outcome: StockOutcome; reservation?: { status: 'reserved' | 'rejected'; reason: StockRejectionReason | null } }

/**
 * The rule of `reserveStatement`, applied to a batch in turn: an order decided before (in an
 * earlier batch or earlier in this one) is answered again with that decision and takes nothing;
 * otherwise it takes its qty if what is left of the locked stock covers it, else it is rejected.
 */
function decideInTurn(
  items: { req: StockRequest; answers: Answers }[],
  stock: Map<string, number>,
  earlier: { orderId: string; status: string; reason: StockRejectionReason | null }[],
): Decided[] {
  const known = new Map(earlier.map((r) => [r.orderId, r.status === 'rejected' ? { status: 'rejected' as const, reason: r.reason } : { status: 'reserved' as const, reason: null }]))
  return items.map(({ req, answers }) => {
    const before = known.get(req.orderId)
    if (before) return { req, answer: answerFor(answers, before), outcome: { status: 'duplicate' } }
    const left = stock.get(req.productId)
    const decision =
      left === undefined
        ? { status: 'rejected' as const, reason: 'product_not_found' as const }
        : left >= req.qty
          ? { status: 'reserved' as const, reason: null }
          : { status: 'rejected' as const, reason: 'insufficient_stock' as const }
    if (decision.status === 'reserved') stock.set(req.productId, left! - req.qty)
    known.set(req.orderId, decision)
    const outcome: StockOutcome = decision.status === 'reserved' ? { status: 'reserved' } : { status: 'rejected', reason: decision.reason }
    return { req, answer: answerFor(answers, decision), outcome, reservation: decision }
  })
}

const answerFor = (answers: Answers, d: { status: 'reserved' | 'rejected'; reason: StockRejectionReason | null }): OutboxEvent =>
  d.status === 'reserved' ? answers.reserved : { ...answers.rejected, payload: { ...answers.rejected.payload, reason: d.reason } }

/** Every stock change (one per product), reservation and answer of a batch, in one statement. */
async function writeDecisions(tx: Tx, decided: Decided[]) {
  const taken = new Map<string, number>()
  for (const d of decided) if (d.reservation?.status === 'reserved') taken.set(d.req.productId, (taken.get(d.req.productId) ?? 0) + d.req.qty)
  const fresh = decided.filter((d) => d.reservation)
  const rows = decided.map((d) => outboxRow(d.answer))
  const col = <T>(list: Decided[], f: (d: Decided) => T) => list.map(f)
  await tx`
    with taken as (
      update products p set qty = p.qty - t.qty, updated_at = now()
      from unnest(${[...taken.keys()]}::uuid[], ${[...taken.values()]}::int[]) as t(id, qty)
      where p.id = t.id
    ),
    decided as (
      insert into reservations (order_id, event_id, product_id, qty, status, reason)
      select * from unnest(${col(fresh, (d) => d.req.orderId)}::uuid[], ${col(fresh, (d) => d.req.eventId)}::uuid[],
                           ${col(fresh, (d) => d.req.productId)}::uuid[], ${col(fresh, (d) => d.req.qty)}::int[],
                           ${col(fresh, (d) => d.reservation!.status)}::text[], ${col(fresh, (d) => d.reservation!.reason)}::text[])
    )
    insert into outbox (event_id, routing_key, payload, headers)
    select * from unnest(${rows.map((r) => r.event_id)}::uuid[], ${rows.map((r) => r.routing_key)}::text[],
                         ${rows.map((r) => r.payload as never)}::jsonb[], ${rows.map((r) => r.headers as never)}::jsonb[])`
}

export function createStore(sql: Sql) {
  return {
    async insert(p: NewProduct): Promise<Product> {
      const [row] = await sql<Row[]>`insert into products ${sql(p)} returning *`
      return toProduct(row!)
    },

    async find(id: string): Promise<Product | undefined> {
      const [row] = await sql<Row[]>`select * from products where id = ${id}`
      return row && toProduct(row)
    },

    /** Keyset page in creation order (ids are UUIDv7); one extra row says whether more follow. */
    async list(limit: number, after?: string): Promise<{ items: Product[]; nextCursor: string | null }> {
      const rows = await sql<Row[]>`
        select * from products ${after ? sql`where id > ${after}` : sql``}
        order by id limit ${limit + 1}`
      const items = rows.slice(0, limit).map(toProduct)
      return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null }
    },

    async update(id: string, changes: ProductChanges): Promise<Product | undefined> {
      const [row] = await sql<Row[]>`
        update products set ${sql(changes)}, updated_at = now() where id = ${id} returning *`
      return row && toProduct(row)
    },

    async remove(id: string): Promise<boolean> {
      const rows = await sql`delete from products where id = ${id}`
      return rows.count > 0
    },

    /**
     * Takes stock for one order in one statement, committed on its own so the product row is
     * locked for as short a time as possible: the conditional UPDATE never goes below zero, the
     * reservation row (primary key = order id) makes a second delivery a no-op, and the answer
     * (`stock.reserved` or `stock.rejected` with the reason) goes into the outbox in the same
     * statement. Two deliveries racing each other: the loser hits the unique key, undone whole.
     */
    async reserve(req: StockRequest, answers: Answers): Promise<StockOutcome> {
      try {
        const outcome = await reserveStatement(sql, req, answers)
        eventsCommitted()
        return outcome
      } catch (err) {
        if (isUniqueViolation(err)) return { status: 'duplicate' }
        throw err
      }
    },

    /**
     * The same for orders that arrived together, decided as if taken one at a time in arrival
     * order, in one transaction of three statements whatever the batch size: lock the products
     * (in id order, so batches never deadlock), read the reservations already made (after the
     * locks, so a replica's batch that just committed is seen), then write every stock change,
     * reservation and answer at once. The hot product row is locked once and the batch costs one
     * commit. A concurrent duplicate of an order whose product does not exist (no row to lock)
     * fails the batch on the unique key; the caller then takes them one by one.
     */
    async reserveMany(items: { req: StockRequest; answers: Answers }[]): Promise<StockOutcome[]> {
      const outcomes = await sql.begin(async (tx) => {
        const productIds = [...new Set(items.map((i) => i.req.productId))]
        const [stock, earlier] = await Promise.all([
          tx<{ id: string; qty: number }[]>`select id, qty from products where id = any(${productIds}::uuid[]) order by id for update`,
          tx<{ orderId: string; status: string; reason: StockRejectionReason | null }[]>`
            select order_id, status, reason from reservations where order_id = any(${items.map((i) => i.req.orderId)}::uuid[])`,
        ])
        const decided = decideInTurn(items, new Map(stock.map((r) => [r.id, r.qty])), earlier)
        await writeDecisions(tx, decided)
        return decided.map((d) => d.outcome)
      })
      eventsCommitted()
      return outcomes
    },

    /** Gives a reservation's stock back once; a second cancel finds it released already. */
    async release(orderId: string): Promise<{ productId: string } | undefined> {
      const [row] = await sql<{ productId: string }[]>`
        with released as (
          update reservations set status = 'released', released_at = now()
          where order_id = ${orderId} and status = 'reserved'
          returning product_id, qty
        )
        update products p set qty = p.qty + r.qty, updated_at = now()
        from released r where p.id = r.product_id
        returning p.id as product_id`
      return row
    },
  }
}

export type Store = ReturnType<typeof createStore>
