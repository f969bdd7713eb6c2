import type { Product, StockRejectionReason } from '@shop/contracts'
import { eventsCommitted, isUniqueViolation, outboxRow, type OutboxEvent, type Sql, type Tx } from '@shop/kit'

type Row = { id: string; name: string; price: string; qty: number; version: number; createdAt: Date; updatedAt: Date }

const toProduct = (r: Row): Product => ({
  id: r.id,
  name: r.name,
  price: r.price,
  qty: r.qty,
  version: r.version,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
})

export type NewProduct = { id: string; name: string; price: string; qty: number }
/** `qty` sets the stock, `qtyDelta` adds to it (at the moment of the write); at most one of them. */
export type ProductChanges = Partial<Pick<NewProduct, 'name' | 'price' | 'qty'>> & { qtyDelta?: number }
/**
 * Why a write wrote nothing. `versions`: the write's If-Match (undefined: any version); a product
 * at another one is `stale`. `stockOutOfRange`: a qtyDelta would take the stock below 0 (the CHECK
 * constraint) or past what an integer holds.
 */
export type NotWritten = { status: 'missing' } | { status: 'stale'; version: number } | { status: 'stockOutOfRange'; below: boolean }
export type StockRequest = { orderId: string; eventId: string; productId: string; qty: number }
export type StockOutcome = { status: 'reserved' } | { status: 'rejected'; reason: StockRejectionReason } | { status: 'duplicate' }

type Answers = { reserved: OutboxEvent; rejected: OutboxEvent }

type Decided = { req: StockRequest; answer: OutboxEvent; outcome: StockOutcome; reservation?: { status: 'reserved' | 'rejected'; reason: StockRejectionReason | null } }

/**
 * The stock rule, applied to a batch in turn: an order decided before (in an earlier batch or
 * earlier in this one; a released reservation counts as reserved) is answered again with that
 * decision and takes nothing, so an order whose answer got lost can ask again; otherwise it takes
 * its qty if what is left of the locked stock covers it, else it is rejected. Stock never goes
 * below zero (a CHECK constraint backs this up) and the reservation's primary key, the order id,
 * makes a second take impossible.
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
      update products p set qty = p.qty - t.qty, version = p.version + 1, updated_at = now()
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

const isStockBelowZero = (err: unknown) =>
  (err as { code?: string }).code === '23514' && (err as { constraint_name?: string }).constraint_name === 'products_qty_check'
const isOutOfRange = (err: unknown) => (err as { code?: string }).code === '22003'

export function createStore(sql: Sql) {
  const onlyAt = (versions?: number[]) => (versions ? sql`and version = any(${versions}::int[])` : sql``)

  /** A conditional write that matched no row: the product is gone, or (with If-Match) at another version. */
  async function whyNotWritten(id: string, versions?: number[]): Promise<NotWritten> {
    if (!versions) return { status: 'missing' }
    const [row] = await sql<{ version: number }[]>`select version from products where id = ${id}`
    return row ? { status: 'stale', version: row.version } : { status: 'missing' }
  }

  /**
   * Orders that arrived together, decided as if taken one at a time in arrival order, in one
   * transaction of three statements whatever the batch size: lock the products (in id order, so
   * batches never deadlock), read the reservations already made (after the locks, so a replica's
   * batch that just committed is seen), then write every stock change, reservation and answer at
   * once. The hot product row is locked once and the batch costs one
   * commit. A concurrent duplicate of an order whose product does not exist (no row to lock)
   * fails the batch on the unique key; the caller then takes them one by one.
   */
  async function reserveMany(items: { req: StockRequest; answers: Answers }[]): Promise<StockOutcome[]> {
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
  }

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

    /**
     * One conditional statement: the fields sent (a field not sent keeps its value), the stock set
     * or moved by a delta, the version bumped, all only while the product is at one of `versions`.
     */
    async update(id: string, changes: ProductChanges, versions?: number[]): Promise<{ status: 'written'; product: Product } | NotWritten> {
      const { name = null, price = null, qty = null, qtyDelta = 0 } = changes
      try {
        const [row] = await sql<Row[]>`
          update products
          set name = coalesce(${name}::text, name), price = coalesce(${price}::numeric, price),
              qty = coalesce(${qty}::int, qty) + ${qtyDelta}::int, version = version + 1, updated_at = now()
          where id = ${id} ${onlyAt(versions)}
          returning *`
        return row ? { status: 'written', product: toProduct(row) } : whyNotWritten(id, versions)
      } catch (err) {
        if (isStockBelowZero(err)) return { status: 'stockOutOfRange', below: true }
        if (changes.qtyDelta !== undefined && isOutOfRange(err)) return { status: 'stockOutOfRange', below: false }
        throw err
      }
    },

    async remove(id: string, versions?: number[]): Promise<{ status: 'written' } | NotWritten> {
      const rows = await sql`delete from products where id = ${id} ${onlyAt(versions)}`
      return rows.count > 0 ? { status: 'written' } : whyNotWritten(id, versions)
    },

    /**
     * Takes stock for one order (a message handled alone, after its batch failed): the same
     * transaction as a batch of one. Two deliveries of an order for a product that does not exist
     * (no row to lock) can race to the reservation's unique key; the loser is a duplicate.
     */
    async reserve(req: StockRequest, answers: Answers): Promise<StockOutcome> {
      try {
        return (await reserveMany([{ req, answers }]))[0]!
      } catch (err) {
        if (isUniqueViolation(err)) return { status: 'duplicate' }
        throw err
      }
    },

    reserveMany,

    /** Gives a reservation's stock back once; a second cancel finds it released already. */
    async release(orderId: string): Promise<{ productId: string } | undefined> {
      const [row] = await sql<{ productId: string }[]>`
        with released as (
          update reservations set status = 'released', released_at = now()
          where order_id = ${orderId} and status = 'reserved'
          returning product_id, qty
        )
        update products p set qty = p.qty + r.qty, version = p.version + 1, updated_at = now()
        from released r where p.id = r.product_id
        returning p.id as product_id`
      return row
    },
  }
}

export type Store = ReturnType<typeof createStore>
