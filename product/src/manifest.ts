import { CustomerId, Events, Scopes, ServiceScopes } from '@shop/contracts'
import { eventCatalog, eventConstructor, type ServiceManifest } from '@shop/kit'

/**
 * What product sends and receives, said once: it answers order.created with stock.reserved or
 * stock.rejected, and gives stock back on order.cancelled, saying so with stock.released. The bus
 * binds and checks what it receives, the AsyncAPI document lists both.
 */
export const productEvents = eventCatalog(Events, { sends: ['stock.reserved', 'stock.rejected', 'stock.released'], receives: ['order.created', 'order.cancelled'] })

/**
 * What product tells the kit about itself: the shop's scopes (and the one only services hold), a
 * token's `sub` is a customer id, and its events.
 */
export const manifest = { name: 'product', scopes: Scopes, serviceScopes: ServiceScopes, subject: CustomerId, events: productEvents } satisfies ServiceManifest

/** A new event product sends, its body checked against the contract at compile time. */
export const newEvent = eventConstructor(productEvents)
