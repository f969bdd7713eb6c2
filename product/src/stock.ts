import type { StockRejectionReason } from '@shop/contracts'

/**
 * The stock rule, as pure functions: what a burst of order.created does to the stock and what
 * each order is answered, and what order.cancelled gives back. No SQL and no events here: the
 * store locks and reads what these need and writes what they return; products.ts turns each
 * answer into its event.
 */

/** One order.created, as the stock rule sees it. */
export type StockRequest = { orderId: string; eventId: string; productId: string; qty: number }

/** A reservation's status: rejected for good, or reserved (and released once cancelled). */
export type ReservationStatus = 'reserved' | 'rejected' | 'released'

/** What an earlier delivery decided for an order (its reservation); only a rejection has a reason. */
export type EarlierReservation = { orderId: string } & ({ status: 'reserved' | 'released' } | { status: 'rejected'; reason: StockRejectionReason })

/** The answer product sends an order. */
export type StockAnswer = { routingKey: 'stock.reserved' } | { routingKey: 'stock.rejected'; reason: StockRejectionReason }

/** What a request came to: decided now, or a duplicate of an order decided before (it takes nothing). */
export type StockOutcome = { status: 'reserved' } | { status: 'rejected'; reason: StockRejectionReason } | { status: 'duplicate' }

/** A reservation to write: an order's first (and only) decision. */
export type NewReservation = StockRequest & { status: 'reserved' | 'rejected'; reason: StockRejectionReason | null }

export type DecidedRequest = { request: StockRequest; outcome: StockOutcome; answer: StockAnswer }

/** A burst decided: each request in arrival order, the stock taken per product, the reservations to write. */
export type BurstDecision = { decided: DecidedRequest[]; taken: Map<string, number>; reservations: NewReservation[] }

const reserved: StockAnswer = { routingKey: 'stock.reserved' }
const rejected = (reason: StockRejectionReason): StockAnswer => ({ routingKey: 'stock.rejected', reason })

/** A released reservation was reserved once, so its order is answered reserved. */
const answerOf = (r: EarlierReservation): StockAnswer => (r.status === 'rejected' ? rejected(r.reason) : reserved)

/**
 * Decides a burst of order.created in arrival order, as if they came one at a time. `stock` is the
 * locked stock of each product that exists; `earlier`, the reservations made before this burst.
 * An order decided before (in an earlier burst, or earlier in this one) is a duplicate: answered
 * again with that decision, it takes nothing, so an order whose answer got lost can ask again.
 * Otherwise it takes its qty when what is left covers it, else it is rejected
 * `insufficient_stock`; an order for a product with no row is rejected `product_not_found`.
 * Stock never goes below zero.
 */
export function decideBurst(
  requests: readonly StockRequest[],
  stock: ReadonlyMap<string, number>,
  earlier: readonly EarlierReservation[],
): BurstDecision {
  const left = new Map(stock)
  const known = new Map(earlier.map((r) => [r.orderId, answerOf(r)]))
  const taken = new Map<string, number>()
  const reservations: NewReservation[] = []
  const decided = requests.map((request): DecidedRequest => {
    const before = known.get(request.orderId)
    if (before) return { request, outcome: { status: 'duplicate' }, answer: before }
    const available = left.get(request.productId)
    const answer =
      available === undefined ? rejected('product_not_found') : available >= request.qty ? reserved : rejected('insufficient_stock')
    if (answer.routingKey === 'stock.reserved') {
      left.set(request.productId, available! - request.qty)
      taken.set(request.productId, (taken.get(request.productId) ?? 0) + request.qty)
      reservations.push({ ...request, status: 'reserved', reason: null })
    } else reservations.push({ ...request, status: 'rejected', reason: answer.reason })
    known.set(request.orderId, answer)
    const outcome: StockOutcome = answer.routingKey === 'stock.reserved' ? { status: 'reserved' } : { status: 'rejected', reason: answer.reason }
    return { request, outcome, answer }
  })
  return { decided, taken, reservations }
}

/** The reservation an order.cancelled finds. */
export type HeldReservation = { productId: string; qty: number; status: ReservationStatus }

/** Stock to give back to a product. */
export type Release = { productId: string; qty: number }

/**
 * order.cancelled: a reserved reservation is released, once, and its qty goes back to its
 * product; a released one (a second cancel), a rejected one or none gives nothing back.
 */
export const releaseOnCancel = (reservation: HeldReservation | undefined): Release | undefined =>
  reservation?.status === 'reserved' ? { productId: reservation.productId, qty: reservation.qty } : undefined
