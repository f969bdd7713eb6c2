/**
 * Bearer tokens (JWT, RFC 7519/8725) checked with jose against an identity provider's JWKS or a
 * PEM key, plus the keys of services that call as themselves. What the scopes are is the
 * service's to say (`Vocabulary`).
 */
import { createPublicKey } from 'node:crypto'
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type KeyObject,
} from 'jose'
import { Type as t, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { AuthSettings } from '../service/config.ts'
import { DomainError, unavailable } from '../core/errors.ts'

/**
 * Who is calling: a token's subject and scopes; `sub` is null only when AUTH=off. `service`: the
 * caller is one of our services calling as itself (its own key, or a client-credentials token
 * carrying a service scope), which the rate limits count apart from people.
 */
export type Caller = { sub: string | null; scopes: ReadonlySet<string>; service?: boolean }

/**
 * The words a service's tokens speak, handed in by the service: the scopes there are, the ones
 * only services hold (a service's own key may grant nothing else), and what a `sub` must look like.
 */
export type Vocabulary = { scopes: readonly string[]; serviceScopes?: readonly string[]; subject?: TSchema }

/** Any printable subject up to 255 characters, when a service names no stricter one. */
const ANY_SUBJECT = t.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' })

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

/** Why a token was refused, as the metric and the log count it. */
export type AuthFailure = 'malformed' | 'algorithm' | 'expired' | 'issuer' | 'invalid'

/** A 401 that says which cheap check (or the signature check) refused the token. */
const refused = (reason: AuthFailure, description: string) => Object.assign(unauthorized(description), { reason })
export const failureOf = (err: unknown): AuthFailure | undefined =>
  err instanceof DomainError && err.kind === 'Unauthorized' ? ((err as { reason?: AuthFailure }).reason ?? 'invalid') : undefined

/**
 * The keys of services that call this one as themselves (SERVICE_JWKS): each key's `kid` is
 * `<service>` or `<service>:<version>`, and a token it verifies must name that service as `iss`
 * and `sub`. It may carry only service scopes, so a service's key can never act as a person.
 */
function serviceKeys(jwks: string | undefined) {
  if (!jwks) return undefined
  let set: JSONWebKeySet
  try {
    set = JSON.parse(jwks) as JSONWebKeySet
    if (!Array.isArray(set.keys) || !set.keys.every((k) => typeof k.kid === 'string' && !('d' in k))) throw new Error()
  } catch {
    throw new Error('invalid configuration: SERVICE_JWKS: not a JWKS of public keys, each with a kid naming its service')
  }
  const names = new Set(set.keys.map((k) => k.kid!.split(':')[0]!))
  return { names, keys: createLocalJWKSet(set) }
}

/**
 * Verifies bearer tokens the way RFC 7519/8725 ask; returns the caller or throws a 401/503.
 * The cheap checks come first: a token that is not a JWT, names an algorithm outside the list,
 * has expired or comes from an issuer we do not know is refused from its text alone, before any
 * key is looked up or signature checked (`signatureChecks` counts those that got that far).
 */
export function createVerifier(settings: AuthSettings, vocabulary: Vocabulary) {
  const serviceScopes = new Set(vocabulary.serviceScopes ?? [])
  const subject = vocabulary.subject ?? ANY_SUBJECT
  // with AUTH=off every caller may do everything people may, as the seed API allowed
  const everyone: Caller = { sub: null, scopes: new Set(vocabulary.scopes.filter((s) => !serviceScopes.has(s))) }
  if (!settings.enabled) return Object.assign(async (): Promise<Caller> => everyone, { remembered: () => undefined, signatureChecks: () => 0 })
  if (!settings.publicKey && !settings.jwksUrl)
    throw new Error('AUTH is on but neither JWT_JWKS_URL nor JWT_PUBLIC_KEY is set (`bun run start` makes a local key; AUTH=off turns auth off)')
  const keys = keysOf(settings)
  const services = serviceKeys(settings.serviceJwks)
  const options = {
    algorithms: ALGORITHMS,
    audience: settings.audience,
    clockTolerance: settings.clockToleranceSeconds,
    requiredClaims: ['sub', 'exp'],
  }
  const verified = new Map<string, { caller: Caller; until: number }>() // in insertion order: oldest first
  let signatureChecks = 0

  function cheapChecks(token: string): JWTPayload & { fromService: boolean } {
    let alg: unknown
    let payload: JWTPayload
    try {
      alg = decodeProtectedHeader(token).alg
      payload = decodeJwt(token)
    } catch {
      throw refused('malformed', 'not a JWT')
    }
    if (typeof alg !== 'string' || !ALGORITHMS.includes(alg)) throw refused('algorithm', 'algorithm not allowed')
    if (typeof payload.exp !== 'number' || payload.exp + settings.clockToleranceSeconds < Date.now() / 1000) throw refused('expired', 'token expired')
    const fromService = typeof payload.iss === 'string' && payload.iss !== settings.issuer && Boolean(services?.names.has(payload.iss))
    if (payload.iss !== settings.issuer && !fromService) throw refused('issuer', 'unexpected iss')
    return Object.assign(payload, { fromService })
  }

  async function verify(token: string): Promise<{ caller: Caller; until: number }> {
    const claimed = cheapChecks(token)
    try {
      signatureChecks++
      const { payload, protectedHeader } = claimed.fromService
        ? await jwtVerify(token, services!.keys, { ...options, issuer: claimed.iss, subject: claimed.iss })
        : await jwtVerify(token, keys as JWTVerifyGetKey, { ...options, issuer: settings.issuer })
      if (claimed.fromService && protectedHeader.kid?.split(':')[0] !== payload.iss) throw refused('invalid', 'key of another service')
      if (!Value.Check(subject, payload.sub)) throw unauthorized('sub is not a valid subject')
      // `scope` (RFC 8693, a space-separated string) or `scp` (an array, as Entra and Okta send it)
      const listed = typeof payload.scope === 'string' ? payload.scope.split(' ') : Array.isArray(payload.scp) ? payload.scp : []
      const scopes = new Set(listed.filter((s): s is string => typeof s === 'string' && (!claimed.fromService || serviceScopes.has(s))))
      const service = claimed.fromService || [...scopes].some((s) => serviceScopes.has(s))
      const caller = { sub: payload.sub as string, scopes, service }
      return { caller, until: Math.min(Date.now() + REMEMBER_MS, payload.exp! * 1000) }
    } catch (err) {
      if (err instanceof DomainError) throw err
      throw unauthorized(err instanceof errors.JOSEError ? err.code.replace('ERR_', '').toLowerCase() : 'not a valid token')
    }
  }

  const tokenOf = (authorization: string | null): string => {
    if (!authorization) throw unauthorized('no bearer token')
    const [kind, token] = authorization.split(' ')
    if (kind?.toLowerCase() !== 'bearer' || !token) throw refused('malformed', 'not a bearer token')
    if (token.length > MAX_TOKEN_LENGTH) throw refused('malformed', 'token too long')
    return token
  }

  const knownCaller = (token: string): Caller | undefined => {
    const known = verified.get(token)
    return known && known.until > Date.now() ? known.caller : undefined
  }

  /** A token whose signature was checked here lately: its caller, at no cost; else undefined. */
  function remembered(authorization: string | null): Caller | undefined {
    try {
      return knownCaller(tokenOf(authorization))
    } catch {
      return undefined // the verifier itself says what is wrong with it
    }
  }

  const verifier = async (authorization: string | null): Promise<Caller> => {
    const token = tokenOf(authorization)
    const known = knownCaller(token)
    if (known) return known
    verified.delete(token)
    const fresh = await verify(token)
    if (verified.size >= REMEMBERED_TOKENS) verified.delete(verified.keys().next().value!)
    verified.set(token, fresh)
    return fresh.caller
  }
  return Object.assign(verifier, { remembered, signatureChecks: () => signatureChecks })
}

export type Verifier = ReturnType<typeof createVerifier>
