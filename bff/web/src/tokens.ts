/**
 * The two bearer tokens the page sends, one for the customer and one for staff. The page never
 * mints one: a person pastes them (the Tokens dialog) or a link brings them in its fragment,
 * `#customer=<jwt>&staff=<jwt>`, which browsers never send to a server. They are kept in
 * sessionStorage, so they go when the tab is closed, and the fragment is taken off the address
 * bar at once, so a copied link or a screenshot does not carry them.
 */
export type Role = 'customer' | 'staff'
export const ROLES: readonly Role[] = ['customer', 'staff']

const keyOf = (role: Role) => `shop.token.${role}`

/** The tokens a fragment (`#customer=…&staff=…`) carries, and what else it says. */
export function tokensInFragment(hash: string): { tokens: Partial<Record<Role, string>>; rest: string } {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const tokens: Partial<Record<Role, string>> = {}
  for (const role of ROLES) {
    const value = params.get(role)?.trim()
    if (value) tokens[role] = value
    params.delete(role)
  }
  return { tokens, rest: params.toString() }
}

/** Moves tokens from the address bar's fragment into sessionStorage; true when there were some. */
export function takeTokensFromFragment(): boolean {
  if (!location.hash) return false
  const { tokens, rest } = tokensInFragment(location.hash)
  if (!Object.keys(tokens).length) return false
  for (const [role, token] of Object.entries(tokens)) setToken(role as Role, token)
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`)
  return true
}

export const tokenOf = (role: Role): string | undefined => sessionStorage.getItem(keyOf(role)) ?? undefined

export function setToken(role: Role, token: string | undefined) {
  if (token?.trim()) sessionStorage.setItem(keyOf(role), token.trim())
  else sessionStorage.removeItem(keyOf(role))
}

export type Claims = { sub?: string; scope?: string; exp?: number }

/**
 * What a token says about itself, to show who the page acts as. Read only, never trusted: the
 * services check the signature; a token that is not a JWT gives undefined.
 */
export function claimsOf(token: string): Claims | undefined {
  const payload = token.split('.')[1]
  if (!payload) return undefined
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='))
    const claims = JSON.parse(json) as Record<string, unknown>
    return {
      sub: typeof claims.sub === 'string' ? claims.sub : undefined,
      scope: typeof claims.scope === 'string' ? claims.scope : undefined,
      exp: typeof claims.exp === 'number' ? claims.exp : undefined,
    }
  } catch {
    return undefined
  }
}

/** "customer-1 (orders:write), until 22:14", or why the token cannot be read. */
export function describeToken(token: string | undefined, now = Date.now()): string {
  if (!token) return 'none'
  const claims = claimsOf(token)
  if (!claims) return 'set (not a readable JWT)'
  const who = `${claims.sub ?? 'no subject'}${claims.scope ? ` (${claims.scope})` : ''}`
  if (claims.exp === undefined) return who
  const until = new Date(claims.exp * 1000)
  return until.getTime() <= now ? `${who}, expired` : `${who}, until ${until.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`
}
