import { pageLimit, type CreateOrder, type Order, type PageQuery } from '@shop/contracts'
import { cents, conflict, DomainError, isUniqueViolation, notFound, toMoney, traceIdsOf, type Log } from '@shop/kit'
import { newEvent } from './manifest.ts'
import { v7 as uuidv7 } from 'uuid'
import type { OrdersCache } from './cache.ts'
import { requestHashOf } from './idempotency.ts'
import { cancelIn, decisionOf, firstDecisionPerOrder, type StockAnswer } from './lifecycle.ts'
import type { ProductClient } from './product-client.ts'
import type { SagaMetrics } from './saga-metrics.ts'
import type { IdempotencyKey, Store } from './store.ts'

export type Placed = { order: Order; replayed: boolean }

/** A POST /orders as the use case gets it: the body, who sent it (null with AUTH=off), its request id and Idempotency-Key. */
export type Placing = { input: CreateOrder; customerId: string | null; requestId: string; idempotencyKey?: string }

export type OrdersDeps = {
  store: Store
  products: ProductClient
  cache: OrdersCache
  log: Log
  saga: SagaMetrics
  idempotencyTtlHours: number
}

export function createOrders({ store, products, cache, log, saga, idempotencyTtlHours }: OrdersDeps) {
  async function replay({ customerId, key, hash }: IdempotencyKey): Promise<Placed | undefined> {
    const found = await store.findByIdempotencyKey(customerId, key, idempotencyTtlHours)
    if (!found) return undefined
    if (found.hash !== hash)
      throw new DomainError('Invalid', 'This Idempotency-Key was used with a different body', [
        { field: 'headers.idempotency-key', message: 'already used for another request' },
      ])
    return { order: found.order, replayed: true }
  }

  /** Forgets the cached lists of the products whose orders changed, and says what happened. */
  async function afterSettling(settled: { event: StockAnswer; headers: Record<string, string>; order: Order | undefined }[]) {
    for (const s of settled) if (s.order) saga.settled(s.order)
    const changed = new Set(settled.flatMap((s) => (s.order ? [s.order.productId] : [])))
    await Promise.all([...changed].map((id) => cache.forget(id)))
    for (const { event, headers, order } of settled)
      log.info('order settled', { orderId: event.orderId, status: order?.status ?? 'unchanged', requestId: headers['x-request-id'], ...traceIdsOf(headers) })
  }

  /** An order; with `owner`, only one of that customer's (another's is as unknown as a missing one). */
  async function find(id: string, owner?: string): Promise<Order> {
    const order = await store.find(id)
    if (!order || (owner !== undefined && order.customerId !== owner)) throw notFound(`order ${id}`)
    return order
  }

  /**
   * One try at cancelling: the conditional update, else what the lifecycle says of the order as
   * it is now. Undefined when the order became cancellable meanwhile (it was just confirmed).
   */
  async function cancelOnce(id: string, requestId: string): Promise<Order | undefined> {
    const cancelled = await store.cancel(id, (o) =>
      newEvent('order.cancelled', { orderId: o.id, productId: o.productId, qty: o.qty }, { 'x-request-id': requestId }),
    )
    if (cancelled) {
      saga.cancelled()
      await cache.forget(cancelled.productId)
      return cancelled
    }
    const order = await find(id)
    const verdict = cancelIn(order.status)
    if (verdict.kind === 'alreadyCancelled') return order
    if (verdict.kind === 'refused') throw conflict(verdict.message, [{ field: 'status', message: `is ${order.status}` }])
    return undefined
  }

  /** Settles the orders the answers decide, the first answer per order counting, in one statement. */
  async function settleTogether(answers: { event: StockAnswer; headers: Record<string, string> }[]) {
    const decisions = answers.map((a) => decisionOf(a.event))
    const counting = new Set(firstDecisionPerOrder(decisions))
    const changed = new Map((await store.settle([...counting])).map((o) => [o.id, o]))
    // a repeat of an order in this batch changed nothing
    await afterSettling(answers.map((a, i) => ({ ...a, order: counting.has(decisions[i]!) ? changed.get(decisions[i]!.orderId) : undefined })))
  }

  return {
    /**
     * Checks the product synchronously, then stores the order as pending together with its
     * order.created event. Whether the stock is really there is decided by product, atomically;
     * the check here only refuses what is certain to fail. Each step's time goes to
     * `shop_order_placing_seconds{step}` (the HTTP layer observes the step before, `access`).
     */
    async place({ input, customerId, requestId, idempotencyKey }: Placing): Promise<Placed> {
      const keyed = idempotencyKey ? { customerId: customerId ?? '', key: idempotencyKey, hash: requestHashOf(input) } : undefined
      if (keyed) {
        const earlier = await replay(keyed)
        if (earlier) return earlier
      }
      const clientPrice = input.price === undefined ? undefined : toMoney(input.price, 'body.price')
      let since = performance.now()
      const product = await products.get(input.productId, requestId)
      since = saga.stepDone('product_check', since)
      if (clientPrice !== undefined && cents(clientPrice) !== cents(product.price))
        throw conflict(`The price is now ${product.price}, not ${clientPrice}`, [{ field: 'body.price', message: `current price is ${product.price}` }])
      if (product.qty < input.qty)
        throw conflict(`Only ${product.qty} in stock`, [{ field: 'body.qty', message: `only ${product.qty} in stock` }])

      const id = uuidv7()
      const created = { orderId: id, productId: input.productId, qty: input.qty, customerId }
      const event = newEvent('order.created', created, { 'x-request-id': requestId })
      try {
        const order = await store.insertPending(
          { id, productId: input.productId, customerId, qty: input.qty, unitPrice: product.price, requestId },
          event,
          keyed,
        )
        since = saga.stepDone('insert', since)
        await cache.forget(order.productId)
        saga.stepDone('cache_invalidation', since)
        saga.placed()
        log.info('order placed', { orderId: id, productId: order.productId, qty: order.qty, requestId })
        return { order, replayed: false }
      } catch (err) {
        // a concurrent request with the same key won the race: answer with its order
        if (keyed && isUniqueViolation(err)) {
          const winner = await replay(keyed)
          if (winner) return winner
        }
        throw err
      }
    },

    get: find,

    async listByProduct(productId: string, query: PageQuery) {
      const limit = pageLimit(query)
      return cache.page(productId, limit, query.cursor, () => store.listByProduct(productId, limit, query.cursor))
    },

    /** Cancels a confirmed order; product puts the stock back when order.cancelled arrives. */
    async cancel(id: string, requestId: string, owner?: string): Promise<Order> {
      if (owner !== undefined) await find(id, owner)
      // a second try only for an order confirmed between the first try's update and its read
      const order = (await cancelOnce(id, requestId)) ?? (await cancelOnce(id, requestId))
      if (!order) throw conflict('The order changed while it was being cancelled; try again', [{ field: 'status', message: 'changed meanwhile' }])
      return order
    },

    /** stock.reserved / stock.rejected: the saga's answer, applied once. */
    settle: (event: StockAnswer, headers: Record<string, string>) => settleTogether([{ event, headers }]),

    /** Answers that arrived together: one statement, one commit; the first answer per order counts. */
    settleTogether,

    forgetExpiredKeys: () => store.forgetExpiredKeys(idempotencyTtlHours),

    /** The safety net: an order whose stock answer is overdue asks product again (see the store). */
    async resendStale(policy: { seconds: number; maxSeconds: number; limit: number }): Promise<number> {
      const resent = await store.resendStale(policy, (o, requestId) =>
        newEvent('order.created', { orderId: o.id, productId: o.productId, qty: o.qty }, requestId ? { 'x-request-id': requestId } : {}),
      )
      if (resent) {
        saga.resent(resent)
        log.warn('pending orders asked product again', { resent, afterSeconds: policy.seconds })
      }
      return resent
    },
  }
}

export type Orders = ReturnType<typeof createOrders>
