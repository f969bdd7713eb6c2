import { describe, expect, it } from 'bun:test'
import { decideBurst, releaseOnCancel, type BurstDecision, type EarlierReservation, type NewReservation, type StockRequest } from '../src/stock.ts'

const HOT = 'product-hot'
const OTHER = 'product-other'
const GONE = 'product-gone'

let n = 0
const order = (productId: string, qty: number, orderId = `order-${++n}`): StockRequest => ({ orderId, productId, qty, eventId: `event-${++n}` })
const stock = (entries: Record<string, number>) => new Map(Object.entries(entries))

/** What an earlier burst left behind for the next one: its reservations, as the store reads them back. */
const asEarlier = (r: NewReservation): EarlierReservation =>
  r.status === 'rejected' ? { orderId: r.orderId, status: 'rejected', reason: r.reason! } : { orderId: r.orderId, status: 'reserved' }

/** The same requests decided one at a time, each against what the ones before it left. */
function oneByOne(requests: StockRequest[], start: Map<string, number>, earlier: EarlierReservation[] = []): BurstDecision {
  const left = new Map(start)
  const known = [...earlier]
  const all: BurstDecision = { decided: [], taken: new Map(), reservations: [] }
  for (const request of requests) {
    const one = decideBurst([request], left, known)
    for (const [id, qty] of one.taken) {
      left.set(id, left.get(id)! - qty)
      all.taken.set(id, (all.taken.get(id) ?? 0) + qty)
    }
    known.push(...one.reservations.map(asEarlier))
    all.decided.push(...one.decided)
    all.reservations.push(...one.reservations)
  }
  return all
}

const outcomes = (d: BurstDecision) => d.decided.map((x) => (x.outcome.status === 'rejected' ? `rejected ${x.outcome.reason}` : x.outcome.status))
const answers = (d: BurstDecision) => d.decided.map((x) => (x.answer.routingKey === 'stock.rejected' ? `${x.answer.routingKey} ${x.answer.reason}` : x.answer.routingKey))

describe('the stock rule for a burst of order.created', () => {
  it('when a burst is decided in turn, then outcomes, answers, stock taken and reservations are those of deciding it one by one', () => {
    const released = order(HOT, 1)
    const rejectedBefore = order(HOT, 9)
    const earlier: EarlierReservation[] = [
      { orderId: released.orderId, status: 'released' },
      { orderId: rejectedBefore.orderId, status: 'rejected', reason: 'insufficient_stock' },
    ]
    const first = order(HOT, 3)
    const burst = [first, order(HOT, 4), order(HOT, 2), first, order(GONE, 1), order(OTHER, 1), released, rejectedBefore]
    const start = stock({ [HOT]: 5, [OTHER]: 1 })

    const together = decideBurst(burst, start, earlier)

    expect(together).toEqual(oneByOne(burst, start, earlier))
    expect(outcomes(together)).toEqual(['reserved', 'rejected insufficient_stock', 'reserved', 'duplicate', 'rejected product_not_found', 'reserved', 'duplicate', 'duplicate'])
    expect(answers(together)).toEqual([
      'stock.reserved',
      'stock.rejected insufficient_stock',
      'stock.reserved',
      'stock.reserved',
      'stock.rejected product_not_found',
      'stock.reserved',
      'stock.reserved',
      'stock.rejected insufficient_stock',
    ])
    expect(together.taken).toEqual(stock({ [HOT]: 5, [OTHER]: 1 }))
  })

  it('when the locked stock is handed to the rule, then the rule leaves it as it was', () => {
    const start = stock({ [HOT]: 5 })
    decideBurst([order(HOT, 5)], start, [])
    expect(start.get(HOT)).toBe(5)
  })

  it('when the same order is delivered twice in one burst, then the second is answered with the first decision and takes nothing', () => {
    const once = order(HOT, 2)
    const short = order(HOT, 7)
    const d = decideBurst([once, short, { ...once, eventId: 'another delivery' }, { ...short, eventId: 'yet another' }], stock({ [HOT]: 3 }), [])

    expect(outcomes(d)).toEqual(['reserved', 'rejected insufficient_stock', 'duplicate', 'duplicate'])
    expect(answers(d)).toEqual(['stock.reserved', 'stock.rejected insufficient_stock', 'stock.reserved', 'stock.rejected insufficient_stock'])
    expect(d.taken).toEqual(stock({ [HOT]: 2 }))
    expect(d.reservations.map((r) => [r.orderId, r.status, r.eventId])).toEqual([
      [once.orderId, 'reserved', once.eventId],
      [short.orderId, 'rejected', short.eventId],
    ])
  })

  it('when an order decided in an earlier burst comes again, then it is answered with that decision and nothing is taken or written', () => {
    const reservedBefore = order(HOT, 1)
    const rejectedBefore = order(GONE, 1)
    const earlier: EarlierReservation[] = [
      { orderId: reservedBefore.orderId, status: 'reserved' },
      { orderId: rejectedBefore.orderId, status: 'rejected', reason: 'product_not_found' },
    ]
    const d = decideBurst([reservedBefore, rejectedBefore], stock({ [HOT]: 10 }), earlier)

    expect(outcomes(d)).toEqual(['duplicate', 'duplicate'])
    expect(answers(d)).toEqual(['stock.reserved', 'stock.rejected product_not_found'])
    expect(d.taken.size).toBe(0)
    expect(d.reservations).toEqual([])
  })

  it('when a released reservation is asked for again, then it is answered reserved and takes no stock', () => {
    const cancelled = order(HOT, 4)
    const d = decideBurst([cancelled], stock({ [HOT]: 0 }), [{ orderId: cancelled.orderId, status: 'released' }])

    expect(d.decided[0]).toEqual({ request: cancelled, outcome: { status: 'duplicate' }, answer: { routingKey: 'stock.reserved' } })
    expect(d.taken.size).toBe(0)
    expect(d.reservations).toEqual([])
  })

  it('when what is left covers the qty exactly, then the order is reserved, the stock reaches zero and the next one is rejected', () => {
    const exact = order(HOT, 4)
    const next = order(HOT, 1)
    const d = decideBurst([order(HOT, 2), exact, next], stock({ [HOT]: 6 }), [])

    expect(outcomes(d)).toEqual(['reserved', 'reserved', 'rejected insufficient_stock'])
    expect(d.taken.get(HOT)).toBe(6)
    expect(d.reservations.at(-1)).toEqual({ ...next, status: 'rejected', reason: 'insufficient_stock' })
  })

  it('when the product has no row, then the order is rejected product_not_found, takes nothing and its rejection is written', () => {
    const lost = order(GONE, 1)
    const d = decideBurst([lost], stock({ [HOT]: 10 }), [])

    expect(d.decided[0]!.outcome).toEqual({ status: 'rejected', reason: 'product_not_found' })
    expect(d.decided[0]!.answer).toEqual({ routingKey: 'stock.rejected', reason: 'product_not_found' })
    expect(d.taken.size).toBe(0)
    expect(d.reservations).toEqual([{ ...lost, status: 'rejected', reason: 'product_not_found' }])
  })

  it('when many orders of every size race for a small stock, then no product goes below zero and what is taken is what was reserved', () => {
    let seed = 7
    const random = (below: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % below) + 1
    const start = stock({ [HOT]: 17, [OTHER]: 3 })
    const requests = Array.from({ length: 200 }, () => order(random(2) === 1 ? HOT : OTHER, random(5)))
    const d = decideBurst(requests, start, [])

    for (const [id, qty] of start) expect(qty - (d.taken.get(id) ?? 0)).toBeGreaterThanOrEqual(0)
    const reservedQty = (id: string) => d.reservations.filter((r) => r.productId === id && r.status === 'reserved').reduce((sum, r) => sum + r.qty, 0)
    expect([d.taken.get(HOT), d.taken.get(OTHER)]).toEqual([reservedQty(HOT), reservedQty(OTHER)])
    expect(d.reservations).toHaveLength(200)
  })
})

describe('the stock rule for order.cancelled', () => {
  const reservation = { productId: HOT, qty: 3 }

  it('when the order is reserved, then its qty goes back to its product', () => {
    expect(releaseOnCancel({ ...reservation, status: 'reserved' })).toEqual({ productId: HOT, qty: 3 })
  })

  it('when the order was released already (a second cancel), then nothing goes back', () => {
    expect(releaseOnCancel({ ...reservation, status: 'released' })).toBeUndefined()
  })

  it('when the order was rejected, then nothing goes back', () => {
    expect(releaseOnCancel({ ...reservation, status: 'rejected' })).toBeUndefined()
  })

  it('when the order has no reservation, then nothing goes back', () => {
    expect(releaseOnCancel(undefined)).toBeUndefined()
  })
})
