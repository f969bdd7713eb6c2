/**
 * What a person reads of an order's timeline: each step in words, and the status the steps so
 * far lead to. The steps are order's (`OrderStep` in contracts); a kind this page does not know
 * yet (a newer order) is shown by its name rather than dropped.
 */
import type { OrderStatus, OrderStep, StockRejectionReason } from '@shop/contracts'

/** A step as it arrives: one the contract names, or a newer kind with the same frame. */
export type StepLike = OrderStep | { seq: number; kind: string; at: string }

const reasons: Record<StockRejectionReason, string> = {
  insufficient_stock: 'not enough stock',
  product_not_found: 'the product no longer exists',
}
export const reasonText = (reason: string | null | undefined) => (reason ? (reasons[reason as StockRejectionReason] ?? reason.replace(/_/g, ' ')) : '')

export function stepText(step: StepLike): string {
  const s = step as OrderStep
  switch (s.kind) {
    case 'accepted':
      return 'Accepted, pending'
    case 'published':
      return `${s.event} sent (the broker has it)`
    case 'resent':
      return `order.created sent again (${s.resend})`
    case 'stock.reserved':
      return 'Stock reserved by product'
    case 'stock.rejected':
      return `Stock refused: ${reasonText(s.reason)}`
    case 'confirmed':
      return 'Confirmed'
    case 'rejected':
      return `Rejected: ${reasonText(s.reason)}`
    case 'cancelled':
      return 'Cancelled'
    case 'stock.released':
      return `${s.qty} back in stock`
    default:
      return step.kind
  }
}

/** The status a step sets, if it sets one. */
export function statusAfter(step: StepLike): OrderStatus | undefined {
  switch (step.kind) {
    case 'accepted':
      return 'pending'
    case 'confirmed':
    case 'rejected':
    case 'cancelled':
      return step.kind
    default:
      return undefined
  }
}

/** The page follows an order until nothing more will happen to it by itself. */
export const settled = (status: OrderStatus) => status !== 'pending'
