import { createPublicKey } from 'node:crypto'
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey, type KeyObject } from 'jose'
import { Value } from '@sinclair/typebox/value'
import { CustomerId } from '@shop/contracts'
import type { AuthSettings } from './env.ts'
import { DomainError, unavailable } from './errors.ts'

/** Who is calling: a token's subject and scopes; `sub` is null only when AUTH=off. */
export type Caller = { sub: string | null; scopes: ReadonlySet<string> }

export const SCOPES = ['products:write', 'orders:write', 'orders:read'] as const
export type Scope = (typeof SCOPES)[number]

/** With AUTH=off every caller may do everything, as the seed API allowed. */
export const EVERYONE: Caller = { sub: null, scopes: new Set(SCOPES) }

// RFC 8725: pin the algorithms. Only asymmetric ones, so a public key can never be used as an
// HMAC secret (algorithm confusion) and `none` is never accepted.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']
const MAX_TOKEN_LENGTH = 8192
// a client sends the same token with every request: a signature checked once is remembered for
// a minute at most (never past the token's `exp`), for this many tokens
const REMEMBER_MS = 60_000
const REMEMBERED_TOKENS = 10_000

const bearer = (error: string, description: string, scope?: string) =>
  `Bearer error="${error}", error_description="${description}"${scope ? `, scope="${scope}"` : ''}`

export const unauthorized = (description: string) =>
  new DomainError('Unauthorized', 'A valid bearer token is required', [], undefined, {
    'www-authenticate': bearer('invalid_token', description),
  })

export const forbidden = (scope: string) =>
  new DomainError('Forbidden', `The token lacks the scope ${scope}`, [], undefined, {
    'www-authenticate': bearer('insufficient_scope', `requires ${scope}`, scope),
  })

/**
 * The keys tokens are checked against: an identity provider's JWKS (jose fetches it, caches it,
 * and re-reads it when a token names a `kid` it does not know, so rotation needs no restart),
 * or one PEM public key. While the JWKS endpoint is down, the keys read last keep working.
 */
function keysOf(settings: AuthSettings): JWTVerifyGetKey | KeyObject {
  if (settings.publicKey) return createPublicKey(settings.publicKey) as unknown as KeyObject
  const remote = createRemoteJWKSet(new URL(settings.jwksUrl!), {
    timeoutDuration: 2000,
    cacheMaxAge: settings.jwksMaxAgeSeconds * 1000,
    cooldownDuration: settings.jwksCooldownSeconds * 1000,
  })
  return async (header, token) => {
    try {
      return await remote(header, token)
    } catch (err) {
      const known = remote.jwks()
      const unreachable = !(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout || err.code === 'ERR_JOSE_GENERIC'
      if (unreachable && known) return createLocalJWKSet(known)(header, token)
      if (unreachable) throw unavailable('The identity provider’s keys cannot be read right now', 5)
      throw err
    }
  }
}

/** Verifies bearer tokens the way RFC 7519/8725 ask; returns the caller or throws a 401/503. */
export function createVerifier(settings: AuthSettings) {
  if (!settings.enabled) return async (): Promise<Caller> => EVERYONE
  if (!settings.publicKey && !settings.jwksUrl)
    throw new Error('AUTH is on but neither JWT_JWKS_URL nor JWT_PUBLIC_KEY is set (`bun run start` makes a local key; AUTH=off turns auth off)')
  const keys = keysOf(settings)
  const options = {
    algorithms: ALGORITHMS,
    issuer: settings.issuer,
    audience: settings.audience,
    clockTolerance: settings.clockToleranceSeconds,
    requiredClaims: ['sub', 'exp'],
  }
  const verified = new Map<string, { caller: Caller; until: number }>() // in insertion order: oldest first

  async function verify(token: string): Promise<{ caller: Caller; until: number }> {
    try {
      const { payload } = await jwtVerify(token, keys as JWTVerifyGetKey, options)
      if (!Value.Check(CustomerId, payload.sub)) throw unauthorized('sub is not a valid subject')
      // `scope` (RFC 8693, a space-separated string) or `scp` (an array, as Entra and Okta send it)
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : Array.isArray(payload.scp) ? payload.scp : []
      const caller = { sub: payload.sub as string, scopes: new Set(scopes.filter((s): s is string => typeof s === 'string')) }
      return { caller, until: Math.min(Date.now() + REMEMBER_MS, payload.exp! * 1000) }
    } catch (err) {
      if (err instanceof DomainError) throw err
      throw unauthorized(err instanceof errors.JOSEError ? err.code.replace('ERR_', '').toLowerCase() : 'not a valid token')
    }
  }

  return async (authorization: string | null): Promise<Caller> => {
    if (!authorization) throw unauthorized('no bearer token')
    const [kind, token] = authorization.split(' ')
    if (kind?.toLowerCase() !== 'bearer' || !token) throw unauthorized('not a bearer token')
    if (token.length > MAX_TOKEN_LENGTH) throw unauthorized('token too long')
    const known = verified.get(token)
    if (known && known.until > Date.now()) return known.caller
    verified.delete(token)
    const fresh = await verify(token)
    if (verified.size >= REMEMBERED_TOKENS) verified.delete(verified.keys().next().value!)
    verified.set(token, fresh)
    return fresh.caller
  }
}

export type Verifier = ReturnType<typeof createVerifier>
