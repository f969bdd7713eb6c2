import { CustomerId, Events, Scopes, ServiceScopes } from '@shop/contracts'
import { eventsOf, type ServiceSpec } from '@shop/kit'

/**
 * What product tells the kit about itself: the shop's scopes (and the one only services hold), a
 * token's `sub` is a customer id, and the shop's events (product answers order.created with stock.reserved or stock.rejected, and gives stock back on order.cancelled).
 */
export const spec: ServiceSpec = { name: 'product', scopes: Scopes, serviceScopes: ServiceScopes, subject: CustomerId, events: Events }

/** A new event of the shop's vocabulary, its body checked against the contract at compile time. */
export const newEvent = eventsOf(Events)
