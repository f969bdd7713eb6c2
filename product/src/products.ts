import { pageLimit, type CreateProduct, type OrderCancelled, type OrderCreated, type PageQuery, type Product, type UpdateProduct } from '@shop/contracts'
import { conflict, DomainError, notFound, preconditionFailed, toMoney, traceIdsOf, type Log } from '@shop/kit'
import { newEvent } from './spec.ts'
import { v7 as uuidv7 } from 'uuid'
import type { ProductCache } from './cache.ts'
import { etagOf } from './etag.ts'
import type { NotWritten, ProductChanges, StockOutcome, Store } from './store.ts'

const stockRequest = (e: OrderCreated) => ({ orderId: e.orderId, productId: e.productId, qty: e.qty, eventId: e.eventId })

/** Both possible answers, built from the contracts here; the statement picks the one that holds. */
const answers = ({ orderId, productId, qty }: OrderCreated, headers: Record<string, string>) => ({
  reserved: newEvent('stock.reserved', { orderId, productId, qty }, headers),
  rejected: newEvent('stock.rejected', { orderId, productId, qty, reason: 'insufficient_stock' }, headers),
})

const bothStocks = () =>
  new DomainError('Invalid', 'Send either qty (the stock, absolutely) or qtyDelta (a change of it), not both', [
    { field: 'body.qty', message: 'not with qtyDelta' },
    { field: 'body.qtyDelta', message: 'not with qty' },
  ])

/** Why nothing was written, as the error the caller gets. */
function refusal(id: string, outcome: NotWritten): DomainError {
  switch (outcome.status) {
    case 'missing':
      return notFound(`product ${id}`)
    case 'stale':
      return preconditionFailed(
        'headers.if-match',
        `product ${id} has changed since the version If-Match names: its ETag is now ${etagOf(outcome.version)}; read it again before writing`,
        { etag: etagOf(outcome.version) },
      )
    case 'stockOutOfRange':
      return conflict(`qtyDelta would take the stock of product ${id} ${outcome.below ? 'below 0' : 'past 2147483647'}`, [
        { field: 'body.qtyDelta', message: outcome.below ? 'more than is in stock' : 'more than the stock can hold' },
      ])
  }
}

export function createProducts(store: Store, cache: ProductCache, log: Log) {
  /** Forgets the cached products whose stock changed, once each, and says what happened. */
  type Taken = { event: OrderCreated; headers: Record<string, string>; outcome: StockOutcome }
  async function afterTaking(taken: Taken[]) {
    const changed = new Set(taken.filter((t) => t.outcome.status === 'reserved').map((t) => t.event.productId))
    await Promise.all([...changed].map((id) => cache.forget(id)))
    for (const { event: e, headers, outcome } of taken)
      log.info('order.created handled', {
        orderId: e.orderId,
        productId: e.productId,
        qty: e.qty,
        outcome: outcome.status,
        requestId: headers['x-request-id'],
        ...traceIdsOf(headers),
      })
  }

  return {
    async create(input: CreateProduct): Promise<Product> {
      return store.insert({ id: uuidv7(), name: input.name, price: toMoney(input.price, 'body.price'), qty: input.qty })
    },

    async get(id: string): Promise<{ product: Product; hit: boolean }> {
      const { value, hit } = await cache.get(id, () => store.find(id))
      if (!value) throw notFound(`product ${id}`)
      return { product: value, hit }
    },

    list: (query: PageQuery) => store.list(pageLimit(query), query.cursor),

    /** `versions`: only while the product is at one of them (If-Match); undefined: whatever its version. */
    async update(id: string, input: UpdateProduct, versions?: number[]): Promise<Product> {
      if (input.qty !== undefined && input.qtyDelta !== undefined) throw bothStocks()
      const { price, ...rest } = input
      const changes: ProductChanges = price === undefined ? rest : { ...rest, price: toMoney(price, 'body.price') }
      const outcome = await store.update(id, changes, versions)
      if (outcome.status !== 'written') throw refusal(id, outcome)
      await cache.forget(id)
      return outcome.product
    },

    async remove(id: string, versions?: number[]): Promise<void> {
      const outcome = await store.remove(id, versions)
      if (outcome.status !== 'written') throw refusal(id, outcome)
      await cache.forget(id)
    },

    /** order.created: take the stock once and answer with stock.reserved or stock.rejected. */
    async takeStock(event: OrderCreated, headers: Record<string, string>): Promise<StockOutcome> {
      const outcome = await store.reserve(stockRequest(event), answers(event, headers))
      await afterTaking([{ event, headers, outcome }])
      return outcome
    },

    /** Several order.created that arrived together: one transaction, one commit. */
    async takeStockTogether(events: { event: OrderCreated; headers: Record<string, string> }[]): Promise<StockOutcome[]> {
      const outcomes = await store.reserveMany(events.map(({ event, headers }) => ({ req: stockRequest(event), answers: answers(event, headers) })))
      await afterTaking(events.map((e, i) => ({ ...e, outcome: outcomes[i]! })))
      return outcomes
    },

    /** order.cancelled: give a reserved order's stock back, once. */
    async releaseStock(event: OrderCancelled, headers: Record<string, string>): Promise<void> {
      const released = await store.release(event.orderId)
      if (released) await cache.forget(released.productId)
      log.info('order.cancelled handled', { orderId: event.orderId, released: Boolean(released), requestId: headers['x-request-id'], ...traceIdsOf(headers) })
    },
  }
}

export type Products = ReturnType<typeof createProducts>
