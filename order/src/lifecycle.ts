import type { OrderStatus, StockRejected, StockRejectionReason, StockReserved } from '@shop/contracts'

/**
 * An order's lifecycle as data and pure functions: pending until product answers, then
 * confirmed or rejected; a confirmed order can be cancelled. No SQL here: the store's conditional
 * updates take the statuses they require from these moves.
 */

/** What can happen to an order: product's answer arrives, or the customer cancels. */
export type OrderEvent = 'stock.reserved' | 'stock.rejected' | 'cancel'

/** Every move an order can make. Anything not listed changes nothing. */
export const transitions = [
  { from: 'pending', on: 'stock.reserved', to: 'confirmed' },
  { from: 'pending', on: 'stock.rejected', to: 'rejected' },
  { from: 'confirmed', on: 'cancel', to: 'cancelled' },
] as const satisfies readonly { from: OrderStatus; on: OrderEvent; to: OrderStatus }[]

type Move<E extends OrderEvent> = Extract<(typeof transitions)[number], { on: E }>

/** The move `on` makes: the one status it applies to (what a conditional UPDATE requires) and the status it leads to. */
export const moveOn = <E extends OrderEvent>(on: E): Move<E> => transitions.find((t) => t.on === on) as Move<E>

/** The status `on` takes an order in `status` to; undefined when it changes nothing. */
export const nextStatus = (status: OrderStatus, on: OrderEvent): OrderStatus | undefined =>
  transitions.find((t) => t.from === status && t.on === on)?.to

/** An order is placed pending: waiting for product's answer. */
export const placedAs = 'pending' satisfies OrderStatus

/** An order waiting for its stock answer: the one status both answers move an order from. */
export const awaitingStock: Move<'stock.reserved' | 'stock.rejected'>['from'] = moveOn('stock.reserved').from

export type StockAnswer = StockReserved | StockRejected

/** What a stock answer decides for its order: the status it settles on, and why when rejected. */
export type Decision = { orderId: string; status: Move<'stock.reserved' | 'stock.rejected'>['to']; reason: StockRejectionReason | null }

export const decisionOf = (event: StockAnswer): Decision =>
  'reason' in event
    ? { orderId: event.orderId, status: moveOn('stock.rejected').to, reason: event.reason }
    : { orderId: event.orderId, status: moveOn('stock.reserved').to, reason: null }

/**
 * Of the decisions that arrived together, the first for each order counts, as if they were
 * applied in turn: a later one finds the order settled already. Each one that counts is returned
 * as it was given (the same object), in arrival order.
 */
export function firstDecisionPerOrder<D extends { orderId: string }>(decisions: readonly D[]): D[] {
  const seen = new Set<string>()
  return decisions.filter((d) => !seen.has(d.orderId) && Boolean(seen.add(d.orderId)))
}

/** What a cancel does to an order in a status: cancels it, answers that it is cancelled already, or is refused (409). */
export type CancelVerdict = { kind: 'cancels' } | { kind: 'alreadyCancelled' } | { kind: 'refused'; message: string }

const cannotCancel: Record<Exclude<OrderStatus, Move<'cancel'>['from'] | Move<'cancel'>['to']>, string> = {
  pending: 'The order is still pending; cancel it once it is confirmed',
  rejected: 'A rejected order has nothing to cancel',
}

export function cancelIn(status: OrderStatus): CancelVerdict {
  if (nextStatus(status, 'cancel')) return { kind: 'cancels' }
  // cancelling twice is answered with the order, not repeated
  if (status === moveOn('cancel').to) return { kind: 'alreadyCancelled' }
  return { kind: 'refused', message: cannotCancel[status as keyof typeof cannotCancel] }
}
