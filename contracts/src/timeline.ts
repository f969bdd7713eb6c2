import { Type as t, type Static, type TProperties } from '@sinclair/typebox'
import { PositiveQty, Timestamp, Uuid } from './common.ts'
import { StockRejectionReason } from './events.ts'
import { OrderStatus } from './order.ts'

/**
 * An order's journey, step by step, as order recorded each step in the transaction of the change
 * it is about. `seq` numbers an order's steps in the order they were committed (it is the `id:` of
 * the event stream, to resume from); `kind` names the step (the stream's `event:`).
 */
const step = <K extends string, P extends TProperties>(kind: K, description: string, props: P) =>
  t.Object(
    {
      seq: t.Integer({ minimum: 1, description: "the step's number within its order, in commit order", examples: [1] }),
      kind: t.Literal(kind),
      at: Timestamp,
      ...props,
    },
    { description },
  )

const EventId = t.String({ ...Uuid, description: 'the id of the event this step is about' })

export const OrderStep = t.Union(
  [
    step('accepted', 'POST /orders stored the order, pending, with its order.created', {}),
    step('published', 'the broker confirmed an event order sent about the order', {
      event: t.Union([t.Literal('order.created'), t.Literal('order.cancelled')]),
      eventId: EventId,
    }),
    step('resent', 'the order waited too long for its stock answer: order.created was sent again', {
      resend: t.Integer({ minimum: 1, description: 'how many times it was sent again, this one included' }),
    }),
    step('stock.reserved', "product's answer: it took the stock", { eventId: EventId }),
    step('stock.rejected', "product's answer: it could not take the stock", { eventId: EventId, reason: StockRejectionReason }),
    step('confirmed', 'the order is confirmed (final unless cancelled)', {}),
    step('rejected', 'the order is rejected (final)', { reason: StockRejectionReason }),
    step('cancelled', 'the customer cancelled the confirmed order', {}),
    step('stock.released', 'product gave the cancelled order its stock back', { eventId: EventId, qty: PositiveQty }),
  ],
  { description: 'one step of an order, told by its `kind`' },
)

/** The kinds of step, in the order an order usually goes through them. */
export const ORDER_STEP_KINDS = OrderStep.anyOf.map((s) => s.properties.kind.const)

export const OrderTimeline = t.Object({
  orderId: Uuid,
  status: OrderStatus,
  requestId: t.Union([t.String(), t.Null()], { description: 'the id of the request that placed it', examples: ['0b6f7c1e-2f0a-4c4e-9d7e-1f2a3b4c5d6e'] }),
  traceId: t.Union([t.String({ pattern: '^[0-9a-f]{32}$' }), t.Null()], {
    description: 'the W3C trace id of the request that placed it (its span, or the `traceparent` it came with); null without either',
    examples: ['4bf92f3577b34da6a3ce929d0e0e4736'],
  }),
  resends: t.Integer({ minimum: 0, description: 'how many times order.created was sent again while the order waited for its answer' }),
  retries: t.Integer({ minimum: 0, description: 'stock answers that arrived after the first one that counted (redeliveries, answers to a resend)' }),
  steps: t.Array(OrderStep, { description: 'accepted first, then in the order things happened to it' }),
})

export const OrderEventsHeaders = t.Object({
  'last-event-id': t.Optional(
    t.String({
      pattern: '^[0-9]{1,9}$',
      description: 'the `id:` of the last event received: the stream goes on after it, without repeating (a browser sends it when it reconnects)',
      examples: ['2'],
    }),
  ),
})

export type OrderStep = Static<typeof OrderStep>
export type OrderStepKind = OrderStep['kind']
export type OrderTimeline = Static<typeof OrderTimeline>
