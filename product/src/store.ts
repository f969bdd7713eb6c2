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
     * The same for orders that arrived together: the statements are pipelined in one
     * transaction, so the hot product row is locked once and the batch costs one commit. A
     * concurrent duplicate fails the whole batch; the caller then takes them one by one.
     */
    async reserveMany(items: { req: StockRequest; answers: Answers }[]): Promise<StockOutcome[]> {
      const outcomes = await sql.begin((tx) => Promise.all(items.map((i) => reserveStatement(tx, i.req, i.answers))))
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
