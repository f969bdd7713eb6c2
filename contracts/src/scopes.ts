/**
 * The scopes a token of the shop may carry, each with what it allows. The services' access rules
 * name them, the API documents list them, and `products:check` is the one only a service holds.
 */
export const Scopes = {
  'products:write': 'staff: create, change and delete products',
  'orders:write': 'a customer (`sub` = customer id): place, read and cancel their own orders',
  'orders:read': 'staff: read every order',
  'products:check': "services only: order's product check, called as itself",
} as const
export type Scope = keyof typeof Scopes

/** The scopes only services hold: a service's own key may grant nothing else. */
export const ServiceScopes: readonly Scope[] = ['products:check']
