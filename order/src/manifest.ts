import { CustomerId, Events, Scopes, ServiceScopes } from '@shop/contracts'
import { eventCatalog, eventConstructor, type ServiceManifest } from '@shop/kit'

/**
 * What order sends and receives, said once: it publishes order.created and order.cancelled,
 * settles its orders on product's answers and records a cancelled order's stock coming back. The
 * bus binds and checks what it receives, the AsyncAPI document lists both.
 */
export const orderEvents = eventCatalog(Events, { sends: ['order.created', 'order.cancelled'], receives: ['stock.reserved', 'stock.rejected', 'stock.released'] })

/**
 * What order tells the kit about itself: the shop's scopes (and the one only services hold), a
 * token's `sub` is a customer id, and its events.
 */
export const manifest = { name: 'order', scopes: Scopes, serviceScopes: ServiceScopes, subject: CustomerId, events: orderEvents } satisfies ServiceManifest

/** A new event order sends, its body checked against the contract at compile time. */
export const newEvent = eventConstructor(orderEvents)
