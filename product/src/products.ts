import { pageLimit, type CreateProduct, type OrderCancelled, type OrderCreated, type PageQuery, type Product, type UpdateProduct } from '@shop/contracts'
import { conflict, DomainError, notFound, preconditionFailed, toMoney, traceIdsOf, type Log, type OutboxEvent } from '@shop/kit'
import { newEvent } from './manifest.ts'
import { v7 as uuidv7 } from 'uuid'
import type { ProductCache } from './cache.ts'
import { etagOf } from './etag.ts'
import { decideBurst, releaseOnCancel, type StockAnswer, type StockOutcome, type StockRequest } from './stock.ts'
import type { NotWritten, ProductChanges, Store } from './store.ts'

/** An order.created as it arrived: the event and the headers its answer carries on (request id, trace). */
type Arrived = { event: OrderCreated; headers: Record<string, string> }

const stockRequest = (e: OrderCreated): StockRequest => ({ orderId: e.orderId, productId: e.productId, qty: e.qty, eventId: e.eventId })

/** The event that tells order what was decided for its order. */
const answerEvent = ({ event: { orderId, productId, qty }, headers }: Arrived, answer: StockAnswer): OutboxEvent =>
  answer.routingKey === 'stock.reserved'
    ? newEvent('stock.reserved', { orderId, productId, qty }, headers)
    : newEvent('stock.rejected', { orderId, productId, qty, reason: answer.reason }, headers)

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
  /**
   * Takes the stock of orders that arrived together: the store locks and reads, the stock rule
   * decides, each decision becomes its answer, the store writes it all in one transaction.
   * Undefined when a concurrent delivery of one of these orders won the race to its reservation.
   */
  async function take(arrived: Arrived[]): Promise<StockOutcome[] | undefined> {
    const requests = arrived.map((a) => stockRequest(a.event))
    const burst = await store.takeStock(requests, (stock, earlier) => {
      const decision = decideBurst(requests, stock, earlier)
      return { ...decision, answers: decision.decided.map((d, i) => answerEvent(arrived[i]!, d.answer)) }
    })
    return burst?.decided.map((d) => d.outcome)
  }

  /** Forgets the cached products whose stock changed, once each, and says what happened. */
  async function afterTaking(arrived: Arrived[], outcomes: StockOutcome[]) {
    const changed = new Set(arrived.filter((_, i) => outcomes[i]!.status === 'reserved').map((a) => a.event.productId))
    await Promise.all([...changed].map((id) => cache.forget(id)))
    arrived.forEach(({ event: e, headers }, i) =>
      log.info('order.created handled', {
        orderId: e.orderId,
        productId: e.productId,
        qty: e.qty,
        outcome: outcomes[i]!.status,
        requestId: headers['x-request-id'],
        ...traceIdsOf(headers),
      }),
    )
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

    /**
     * order.created, alone (a message handled by itself, as after its burst failed): take the
     * stock once and answer with stock.reserved or stock.rejected. Two deliveries of an order for
     * a product that does not exist can race to its reservation; the one that lost is a duplicate.
     */
    async takeStock(event: OrderCreated, headers: Record<string, string>): Promise<StockOutcome> {
      const arrived = [{ event, headers }]
      const outcome: StockOutcome = (await take(arrived))?.[0] ?? { status: 'duplicate' }
      await afterTaking(arrived, [outcome])
      return outcome
    },

    /**
     * Several order.created that arrived together: one transaction, one commit, as if taken one by
     * one in arrival order. A burst that lost a race throws, and the consumer takes its orders
     * one by one.
     */
    async takeStockTogether(arrived: Arrived[]): Promise<StockOutcome[]> {
      const outcomes = await take(arrived)
      if (!outcomes) throw new Error('another delivery reserved one of these orders meanwhile: take them one by one')
      await afterTaking(arrived, outcomes)
      return outcomes
    },

    /** order.cancelled: give a reserved order's stock back, once, and tell order with stock.released. */
    async releaseStock(event: OrderCancelled, headers: Record<string, string>): Promise<void> {
      const released = await store.releaseStock(event.orderId, releaseOnCancel, ({ productId, qty }) =>
        newEvent('stock.released', { orderId: event.orderId, productId, qty }, headers),
      )
      if (released) await cache.forget(released.productId)
      log.info('order.cancelled handled', { orderId: event.orderId, released: Boolean(released), requestId: headers['x-request-id'], ...traceIdsOf(headers) })
    },
  }
}

export type Products = ReturnType<typeof createProducts>
