import { describe, expect, it } from 'bun:test'
import { OrderStatus, type StockRejected, type StockReserved } from '@shop/contracts'
import {
  awaitingStock,
  cancelIn,
  decisionOf,
  firstDecisionPerOrder,
  moveOn,
  nextStatus,
  placedAs,
  transitions,
  type Decision,
  type OrderEvent,
} from '../src/lifecycle.ts'

const statuses = OrderStatus.anyOf.map((s) => s.const)
const events: OrderEvent[] = ['stock.reserved', 'stock.rejected', 'cancel']
const envelope = { eventId: '0196f0c2-0000-7000-8000-000000000001', occurredAt: '2026-01-01T00:00:00.000Z', version: 1 as const }
const reserved = (orderId: string): StockReserved => ({ ...envelope, orderId, productId: 'p', qty: 1 })
const rejected = (orderId: string, reason: StockRejected['reason'] = 'insufficient_stock'): StockRejected => ({ ...envelope, orderId, productId: 'p', qty: 1, reason })

describe('the order lifecycle', () => {
  it('when anything happens to an order in any status, then only the three moves of the lifecycle change it', () => {
    const moves = statuses.flatMap((status) => events.flatMap((on) => (nextStatus(status, on) ? [`${status} --${on}--> ${nextStatus(status, on)}`] : [])))
    expect(moves).toEqual(['pending --stock.reserved--> confirmed', 'pending --stock.rejected--> rejected', 'confirmed --cancel--> cancelled'])
  })

  it('when an order is settled, cancelled or cancelled again, then nothing moves it any more', () => {
    for (const final of ['rejected', 'cancelled'] as const) for (const on of events) expect(nextStatus(final, on)).toBeUndefined()
    for (const on of ['stock.reserved', 'stock.rejected'] as const) expect(nextStatus('confirmed', on)).toBeUndefined()
  })

  it('when the store asks which status a move requires, then it gets the one status the move starts from', () => {
    expect(moveOn('cancel')).toEqual({ from: 'confirmed', on: 'cancel', to: 'cancelled' })
    expect(moveOn('stock.rejected')).toEqual({ from: 'pending', on: 'stock.rejected', to: 'rejected' })
    expect(placedAs).toBe('pending')
    expect(awaitingStock).toBe('pending')
    // every move of a stock answer starts where orders wait for it, so one conditional UPDATE serves both
    expect(transitions.filter((t) => t.on !== 'cancel').every((t) => t.from === awaitingStock)).toBe(true)
  })
})

describe('a stock answer', () => {
  it('when stock.reserved arrives, then the order is to be confirmed, with no reason', () => {
    expect(decisionOf(reserved('o1'))).toEqual({ orderId: 'o1', status: 'confirmed', reason: null })
  })

  it('when stock.rejected arrives, then the order is to be rejected with its reason', () => {
    expect(decisionOf(rejected('o1'))).toEqual({ orderId: 'o1', status: 'rejected', reason: 'insufficient_stock' })
    expect(decisionOf(rejected('o2', 'product_not_found'))).toEqual({ orderId: 'o2', status: 'rejected', reason: 'product_not_found' })
  })
})

describe('answers that arrive together', () => {
  it('when an order has several answers in one batch, then the first counts and the later ones are left out', () => {
    const decisions: Decision[] = [reserved('a'), rejected('b'), rejected('a'), reserved('c'), reserved('b'), reserved('a')].map(decisionOf)
    const counting = firstDecisionPerOrder(decisions)
    expect(counting.map((d) => `${d.orderId} ${d.status}`)).toEqual(['a confirmed', 'b rejected', 'c confirmed'])
    // the same objects, so the caller can tell which of its decisions counted
    expect(counting.map((d) => decisions.indexOf(d))).toEqual([0, 1, 3])
  })

  it('when every order has one answer, then all count, in arrival order', () => {
    const decisions = [reserved('x'), rejected('y'), reserved('z')].map(decisionOf)
    expect(firstDecisionPerOrder(decisions)).toEqual(decisions)
  })

  it('when nothing arrived, then nothing counts', () => {
    expect(firstDecisionPerOrder([])).toEqual([])
  })
})

describe('a cancel', () => {
  it('when the order is confirmed, then it is cancelled', () => {
    expect(cancelIn('confirmed')).toEqual({ kind: 'cancels' })
  })

  it('when the order is cancelled already, then the cancel is answered with it, not repeated', () => {
    expect(cancelIn('cancelled')).toEqual({ kind: 'alreadyCancelled' })
  })

  it('when the order is still pending, then the cancel is refused and told to wait for the confirmation', () => {
    expect(cancelIn('pending')).toEqual({ kind: 'refused', message: 'The order is still pending; cancel it once it is confirmed' })
  })

  it('when the order was rejected, then the cancel is refused: there is nothing to cancel', () => {
    expect(cancelIn('rejected')).toEqual({ kind: 'refused', message: 'A rejected order has nothing to cancel' })
  })

  it('when a cancel is refused in any status, then it always says why', () => {
    for (const status of statuses) {
      const verdict = cancelIn(status)
      if (verdict.kind === 'refused') expect(verdict.message).toMatch(/\w/)
    }
  })
})
