import { describe, expect, it } from 'bun:test'
import 'elysia' // registers the string formats the contracts use (uuid, date-time)
import { Value } from '@sinclair/typebox/value'
import { OrderStep, ORDER_STEP_KINDS, type OrderStep as Step } from '@shop/contracts'
import { decisionOf } from '../src/lifecycle.ts'
import { answersPerOrder, inTimelineOrder, publishedStep, settlingSteps, sseEvent, stepOf, streamEnds, toStep } from '../src/timeline.ts'

const eventId = '0196f0c2-0000-7000-8000-000000000001'
const envelope = { eventId, occurredAt: '2026-01-01T00:00:00.000Z', version: 1 as const }
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms))
const stored = (seq: number, kind: string, ms: number, data: Record<string, unknown> = {}, id: string | null = null) =>
  toStep({ seq, kind, at: at(ms), eventId: id, data })

describe('the steps a change makes', () => {
  it('when a stock answer settles an order, then it makes the answer (with its event and reason) and the status', () => {
    const reserved = settlingSteps(decisionOf({ ...envelope, orderId: 'o', productId: 'p', qty: 1 }), eventId)
    expect(reserved).toEqual([
      { kind: 'stock.reserved', eventId, data: {} },
      { kind: 'confirmed', eventId: null, data: {} },
    ])
    const rejected = settlingSteps(decisionOf({ ...envelope, orderId: 'o', productId: 'p', qty: 1, reason: 'product_not_found' }), eventId)
    expect(rejected).toEqual([
      { kind: 'stock.rejected', eventId, data: { reason: 'product_not_found' } },
      { kind: 'rejected', eventId: null, data: { reason: 'product_not_found' } },
    ])
  })

  it('when the broker confirms an event, then order.created and order.cancelled are steps of their order, nothing else is', () => {
    const confirmed = (routingKey: string) => ({ routingKey, eventId, payload: { orderId: 'o-1' } })
    expect(publishedStep(confirmed('order.created'))).toEqual({ orderId: 'o-1', kind: 'published', eventId, data: { event: 'order.created' } })
    expect(publishedStep(confirmed('order.cancelled'))?.data).toEqual({ event: 'order.cancelled' })
    expect(publishedStep(confirmed('thing.made'))).toBeUndefined()
    expect(publishedStep({ routingKey: 'order.created', eventId, payload: {} })).toBeUndefined()
  })

  it('when answers arrive together, then the first per order counts and the rest are counted as retries', () => {
    const d = (orderId: string, status: 'confirmed' | 'rejected') => ({ orderId, status, reason: status === 'rejected' ? ('insufficient_stock' as const) : null })
    const [a1, b1, a2, a3] = [d('a', 'rejected'), d('b', 'confirmed'), d('a', 'confirmed'), d('a', 'rejected')]
    const per = answersPerOrder([a1, b1, a2, a3])
    expect(per).toEqual([
      { decision: a1, answers: 3 },
      { decision: b1, answers: 1 },
    ])
    expect(per[0]!.decision).toBe(a1)
  })

  it('then every kind of step the changes make is one the contract knows', () => {
    const made = [...Object.values(stepOf), 'stock.reserved', 'stock.rejected', 'confirmed', 'rejected']
    expect(made.filter((k) => !ORDER_STEP_KINDS.includes(k as never))).toEqual([])
  })
})

describe("the timeline's order", () => {
  it('when a stored step is read, then it is the contract step, its event id and data in it', () => {
    const step = stored(3, 'stock.rejected', 5, { reason: 'insufficient_stock' }, eventId)
    expect(step).toEqual({ seq: 3, kind: 'stock.rejected', at: '2026-01-01T00:00:00.005Z', eventId, reason: 'insufficient_stock' })
    expect(Value.Check(OrderStep, step)).toBe(true)
  })

  it('when the answer was committed before the confirm of the order.created it answers, then the timeline still tells the confirm first', () => {
    const steps = [
      stored(1, 'accepted', 0),
      stored(2, 'stock.reserved', 8, {}, eventId),
      stored(3, 'confirmed', 8),
      stored(4, 'published', 9, { event: 'order.created' }, eventId),
    ]
    expect(inTimelineOrder(steps).map((s) => s.kind)).toEqual(['accepted', 'published', 'stock.reserved', 'confirmed'])
  })

  it('when an order was resent, answered, cancelled and given its stock back, then each step comes after what caused it, by time among equals', () => {
    const steps: Step[] = [
      stored(9, 'stock.released', 90, { qty: 1 }, eventId),
      stored(8, 'published', 80, { event: 'order.cancelled' }, eventId),
      stored(7, 'cancelled', 70),
      stored(6, 'confirmed', 60),
      stored(5, 'stock.reserved', 60, {}, eventId),
      stored(4, 'published', 50, { event: 'order.created' }, eventId),
      stored(3, 'resent', 40, { resend: 1 }),
      stored(2, 'published', 10, { event: 'order.created' }, eventId),
      stored(1, 'accepted', 0),
    ]
    expect(inTimelineOrder(steps).map((s) => s.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    for (const s of steps) expect(Value.Check(OrderStep, s)).toBe(true)
  })
})

describe('the event stream', () => {
  it('when a step is sent, then as one event: its seq the id, its kind the event, the step the data', () => {
    const step = stored(2, 'confirmed', 1)
    expect(sseEvent(step)).toBe(`id: 2\nevent: confirmed\ndata: ${JSON.stringify(step)}\n\n`)
  })

  it('when the order is pending, then the stream goes on; once confirmed, rejected or cancelled, it ends', () => {
    expect(streamEnds('pending')).toBe(false)
    for (const status of ['confirmed', 'rejected', 'cancelled'] as const) expect(streamEnds(status)).toBe(true)
  })
})
