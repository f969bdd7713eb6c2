import type { OrderStatus, OrderStep, OrderStepKind } from '@shop/contracts'
import { firstDecisionPerOrder, moveOn, type Decision } from './lifecycle.ts'

/**
 * An order's timeline as pure rules: what step each change of an order makes, how a stored step
 * reads, the order the timeline tells them in, and when an event stream of them ends. No SQL
 * here: the store writes the steps these return, in the statement of the change.
 */

/** A step to write: its kind, the event it is about (a redelivery of that event writes nothing twice), the rest. */
export type NewStep = { kind: OrderStepKind; eventId: string | null; data: Record<string, unknown> }

/** A step as the store keeps it. */
export type StoredStep = { seq: number; kind: string; at: Date; eventId: string | null; data: Record<string, unknown> }

/** The step of a change that makes one step, by what happened. */
export const stepOf = {
  placed: 'accepted',
  resent: 'resent',
  cancelled: moveOn('cancel').to,
  released: 'stock.released',
  published: 'published',
} as const satisfies Record<string, OrderStepKind>

/** The events order sends whose confirmation by the broker is a step of their order. */
export const announced = ['order.created', 'order.cancelled'] as const

/** A confirmed event as a step of its order; undefined for an event that is not one of them. */
export function publishedStep(e: { routingKey: string; eventId: string; payload: Record<string, unknown> }): (NewStep & { orderId: string }) | undefined {
  const event = announced.find((k) => k === e.routingKey)
  if (!event || typeof e.payload.orderId !== 'string') return undefined
  return { orderId: e.payload.orderId, kind: stepOf.published, eventId: e.eventId, data: { event } }
}

/** A stock answer that settles its order makes two steps: the answer (its event, the reason) and the status it settles on. */
export function settlingSteps(decision: Decision, eventId: string): [NewStep, NewStep] {
  const reason = decision.reason === null ? {} : { reason: decision.reason }
  const answer: OrderStepKind = decision.status === 'confirmed' ? 'stock.reserved' : 'stock.rejected'
  return [
    { kind: answer, eventId, data: reason },
    { kind: decision.status, eventId: null, data: reason },
  ]
}

/**
 * Answers that arrived together, per order: the first counts (the lifecycle's
 * firstDecisionPerOrder), with how many arrived for that order in all (the others are retries).
 */
export function answersPerOrder<D extends Decision>(decisions: readonly D[]): { decision: D; answers: number }[] {
  const count = new Map<string, number>()
  for (const d of decisions) count.set(d.orderId, (count.get(d.orderId) ?? 0) + 1)
  return firstDecisionPerOrder(decisions).map((decision) => ({ decision, answers: count.get(decision.orderId)! }))
}

/** A stored step as the contract tells it. */
export const toStep = (s: StoredStep): OrderStep =>
  ({ seq: s.seq, kind: s.kind, at: s.at.toISOString(), ...(s.eventId ? { eventId: s.eventId } : {}), ...s.data }) as OrderStep

/** Where a step stands in an order's story: each one after what caused it. */
const place = (s: OrderStep): number => {
  switch (s.kind) {
    case 'accepted':
      return 0
    case 'published':
      return s.event === 'order.created' ? 1 : 5
    case 'resent':
      return 1
    case 'stock.reserved':
    case 'stock.rejected':
      return 2
    case 'confirmed':
    case 'rejected':
      return 3
    case 'cancelled':
      return 4
    case 'stock.released':
      return 6
  }
}

/**
 * The timeline's order: each step after what caused it (accepted; order.created published and
 * resent; product's answer; the status it settled on; cancelled; order.cancelled published; the
 * stock released), then by time, then as committed. Commit order alone can put the broker's
 * confirm of order.created after the answer it caused, when the answer overtook the relay's commit.
 */
export const inTimelineOrder = (steps: readonly OrderStep[]): OrderStep[] =>
  [...steps].sort((a, b) => place(a) - place(b) || Date.parse(a.at) - Date.parse(b.at) || a.seq - b.seq)

/** An event stream of an order ends once it sent every step of an order that is final: nothing moves it on its own any more. */
export const streamEnds = (status: OrderStatus): boolean => status !== 'pending'

/** A step as one Server-Sent Event: its seq the `id:` (to resume from), its kind the `event:`, the step as JSON the `data:`. */
export const sseEvent = (step: OrderStep): string => `id: ${step.seq}\nevent: ${step.kind}\ndata: ${JSON.stringify(step)}\n\n`

/** A comment line: keeps proxies from closing a stream that has nothing to say for a while. */
export const sseHeartbeat = ': keep-alive\n\n'
