import { CustomerId, Scopes, ServiceScopes } from '@shop/contracts'
import type { HttpServiceManifest } from '@shop/kit'

/**
 * What the bff tells the kit about itself: it checks the tokens of the shop (the same scopes, a
 * `sub` is a customer id) before it forwards them unchanged; it has no events.
 */
export const manifest = { name: 'bff', scopes: Scopes, serviceScopes: ServiceScopes, subject: CustomerId } satisfies HttpServiceManifest
