import type { Product } from '@shop/contracts'
import { isUniqueViolation, type Outbox, type OutboxEvent, type OutboxStatement, type Sql, type Tx } from '@shop/kit'
import type { BurstDecision, EarlierReservation, HeldReservation, NewReservation, Release, StockRequest } from './stock.ts'

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
/** What a burst's decision asks the store to write: the stock taken per product, the new reservations, the answers. */
export type StockWrites = Pick<BurstDecision, 'taken' | 'reservations'> & { answers: OutboxEvent[] }

/** Every stock change (one per product), reservation and answer of a burst, in one statement. */
async function writeBurst(tx: Tx, events: OutboxStatement, { taken, reservations, answers }: StockWrites) {
  const col = <T>(f: (r: NewReservation) => T) => reservations.map(f)
  await tx`
    with taken as (
      update products p set qty = p.qty - t.qty, version = p.version + 1, updated_at = now()
      from unnest(${[...taken.keys()]}::uuid[], ${[...taken.values()]}::int[]) as t(id, qty)
      where p.id = t.id
    ),
    decided as (
      insert into reservations (order_id, event_id, product_id, qty, status, reason)
      select * from unnest(${col((r) => r.orderId)}::uuid[], ${col((r) => r.eventId)}::uuid[],
                           ${col((r) => r.productId)}::uuid[], ${col((r) => r.qty)}::int[],
                           ${col((r) => r.status)}::text[], ${col((r) => r.reason)}::text[])
    )
    ${events.insert(answers)}`
}

const isStockBelowZero = (err: unknown) =>
  (err as { code?: string }).code === '23514' && (err as { constraint_name?: string }).constraint_name === 'products_qty_check'
const isOutOfRange = (err: unknown) => (err as { code?: string }).code === '22003'

/** `outbox`: the answers to order.created leave through it, written with the stock they report. */
export function createStore(sql: Sql, outbox: Outbox) {
  const onlyAt = (versions?: number[]) => (versions ? sql`and version = any(${versions}::int[])` : sql``)

  /** A conditional write that matched no row: the product is gone, or (with If-Match) at another version. */
  async function whyNotWritten(id: string, versions?: number[]): Promise<NotWritten> {
    if (!versions) return { status: 'missing' }
    const [row] = await sql<{ version: number }[]>`select version from products where id = ${id}`
    return row ? { status: 'stale', version: row.version } : { status: 'missing' }
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
     * Takes stock for a burst of order.created (one alone is a burst of one) in one transaction of
     * three statements whatever its size: lock the products (in id order, so bursts never
     * deadlock; the hot row once), read the reservations already made (after the locks, so a
     * replica's burst that just committed is seen), ask `decide` (the stock rule), then write every
     * stock change, reservation and answer it returned at once, and commit. Returns what `decide`
     * returned; undefined, with nothing written, when a concurrent delivery of one of these orders
     * reserved it first: possible only for an order whose product does not exist (no row to lock),
     * on the reservation's unique key.
     */
    async takeStock<D extends StockWrites>(
      requests: readonly StockRequest[],
      decide: (stock: ReadonlyMap<string, number>, earlier: EarlierReservation[]) => D,
    ): Promise<D | undefined> {
      try {
        return await outbox.transaction(async (tx, events) => {
          const productIds = [...new Set(requests.map((r) => r.productId))]
          const [stock, earlier] = await Promise.all([
            tx<{ id: string; qty: number }[]>`select id, qty from products where id = any(${productIds}::uuid[]) order by id for update`,
            tx<EarlierReservation[]>`select order_id, status, reason from reservations where order_id = any(${requests.map((r) => r.orderId)}::uuid[])`,
          ])
          const writes = decide(new Map(stock.map((r) => [r.id, r.qty])), earlier)
          await writeBurst(tx, events, writes)
          return writes
        })
      } catch (err) {
        if (isUniqueViolation(err)) return undefined
        throw err
      }
    },

    /**
     * order.cancelled, in one transaction: lock the order's reservation, ask `decide` (the rule)
     * what goes back, write it with its stock.released (`announce`), which leaves through the
     * outbox. A second cancel waits for the first and finds it released: nothing, no event.
     */
    async releaseStock(
      orderId: string,
      decide: (held: HeldReservation | undefined) => Release | undefined,
      announce: (release: Release) => OutboxEvent,
    ): Promise<Release | undefined> {
      return outbox.transaction(async (tx, events) => {
        const [held] = await tx<HeldReservation[]>`select product_id, qty, status from reservations where order_id = ${orderId} for update`
        const release = decide(held)
        if (!release) return undefined
        await tx`
          with released as (update reservations set status = 'released', released_at = now() where order_id = ${orderId})
          update products set qty = qty + ${release.qty}, version = version + 1, updated_at = now() where id = ${release.productId}`
        events.add(announce(release))
        return release
      })
    },
  }
}

export type Store = ReturnType<typeof createStore>
