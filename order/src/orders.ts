import { pageLimit, type CreateOrder, type Order, type OrderTimeline, type PageQuery, type StockReleased } from '@shop/contracts'
import { cents, conflict, DomainError, isUniqueViolation, notFound, toMoney, traceIdsOf, type Log } from '@shop/kit'
import { newEvent } from './manifest.ts'
import { v7 as uuidv7 } from 'uuid'
import type { OrdersCache } from './cache.ts'
import { requestHashOf } from './idempotency.ts'
import { cancelIn, decisionOf, type StockAnswer } from './lifecycle.ts'
import type { ProductClient } from './product-client.ts'
import type { SagaMetrics } from './saga-metrics.ts'
import type { IdempotencyKey, Store } from './store.ts'
import { answersPerOrder, inTimelineOrder, stepOf, toStep } from './timeline.ts'

export type Placed = { order: Order; replayed: boolean }

/** A POST /orders as the use case gets it: the body, who sent it (null with AUTH=off), its request id, trace and Idempotency-Key. */
export type Placing = { input: CreateOrder; customerId: string | null; requestId: string; traceId?: string; idempotencyKey?: string }

export type OrdersDeps = {
  store: Store
  products: ProductClient
  cache: OrdersCache
  log: Log
  saga: SagaMetrics
  idempotencyTtlHours: number
  /** told after each commit that wrote steps of these orders (their event streams read them) */
  stepsWritten: (orderIds: string[]) => void
}

export function createOrders({ store, products, cache, log, saga, idempotencyTtlHours, stepsWritten }: OrdersDeps) {
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
    stepsWritten(settled.flatMap((s) => (s.order ? [s.order.id] : [])))
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
      stepsWritten([cancelled.id])
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

  /** Settles the orders the answers decide, the first answer per order counting (the others are retries), in one statement. */
  async function settleTogether(answers: { event: StockAnswer; headers: Record<string, string> }[]) {
    const decisions = answers.map((a) => ({ ...decisionOf(a.event), eventId: a.event.eventId }))
    const perOrder = answersPerOrder(decisions)
    const counting = new Set(perOrder.map((p) => p.decision))
    const changed = new Map(
      (await store.settle(perOrder.map(({ decision: { eventId, ...decision }, answers }) => ({ decision, eventId, answers })))).map((o) => [o.id, o]),
    )
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
    async place({ input, customerId, requestId, traceId, idempotencyKey }: Placing): Promise<Placed> {
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
          { id, productId: input.productId, customerId, qty: input.qty, unitPrice: product.price, requestId, traceId: traceId ?? null },
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

    /** An order's journey, step by step, in the timeline's order; `owner` as for `get`. */
    async timeline(id: string, owner?: string): Promise<OrderTimeline> {
      const journey = await store.journey(id)
      if (!journey || (owner !== undefined && journey.customerId !== owner)) throw notFound(`order ${id}`)
      const { status, requestId, traceId, resends, retries, steps } = journey
      return { orderId: id, status, requestId, traceId, resends, retries, steps: inTimelineOrder(steps.map(toStep)) }
    },

    /** A page of the product's orders with their `total`, both from the cache or both from one read. */
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

    /** stock.released: product gave a cancelled order its stock back; a step of the order, once however often it arrives. */
    async stockReleased(events: StockReleased[]) {
      const changed = await store.appendSteps(
        events.map((e) => ({ orderId: e.orderId, kind: stepOf.released, eventId: e.eventId, data: { qty: e.qty } })),
      )
      stepsWritten(changed)
    },

    forgetExpiredKeys: () => store.forgetExpiredKeys(idempotencyTtlHours),

    /** The safety net: an order whose stock answer is overdue asks product again (see the store). */
    async resendStale(policy: { seconds: number; maxSeconds: number; limit: number }): Promise<number> {
      const resent = await store.resendStale(policy, (o, requestId) =>
        newEvent('order.created', { orderId: o.id, productId: o.productId, qty: o.qty }, requestId ? { 'x-request-id': requestId } : {}),
      )
      if (resent.length) {
        stepsWritten(resent)
        saga.resent(resent.length)
        log.warn('pending orders asked product again', { resent: resent.length, afterSeconds: policy.seconds })
      }
      return resent.length
    },
  }
}

export type Orders = ReturnType<typeof createOrders>
