/**
 * The token a service sends when it calls another as itself: signed with its own key, or fetched
 * by OAuth 2.0 client credentials and renewed before it expires.
 */
import { importJWK, SignJWT, type JWK } from 'jose'
import { unavailable } from '../core/errors.ts'
import type { Log } from '../observability/log.ts'

/**
 * How a service proves who it is when it calls another one: a short-lived bearer token, cached
 * and renewed a minute before it expires. Two standard ways, whichever is configured:
 * - OAuth 2.0 client credentials (RFC 6749 4.4) against the identity provider
 *   (SERVICE_TOKEN_URL, SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET): the callee verifies the token
 *   with the provider's keys like any other;
 * - a JWT the service signs with its own key (SERVICE_PRIVATE_JWK, RFC 7523 style: `iss` = `sub` =
 *   the service's name), which the callee trusts through SERVICE_JWKS. What `bun run start`,
 *   compose and deploy/k8s wire, since none of them has an identity provider.
 * The grant is one form POST; oauth4webapi or openid-client would add discovery and DPoP that
 * nothing here uses, so it is written out below.
 */
export type ServiceCredentialSettings = {
  privateJwk?: string
  tokenUrl?: string
  clientId?: string
  clientSecret?: string
  audience: string
}

export type ServiceCredential = { kind: 'client-credentials' | 'own-key'; authorization(): Promise<string> }

const LIFETIME_SECONDS = 300
const RENEW_BEFORE_MS = 60_000

export function serviceCredential({
  name,
  scope,
  settings,
  log,
  timeoutMs = 2000,
}: {
  /** the calling service: `iss` and `sub` of a token it signs itself */
  name: string
  /** the scope the token asks for */
  scope: string
  settings: ServiceCredentialSettings
  log: Log
  /** the longest the identity provider may take to answer a client credentials grant */
  timeoutMs?: number
}): ServiceCredential | undefined {
  if (settings.tokenUrl) {
    if (!settings.clientId || !settings.clientSecret)
      throw new Error('invalid configuration: SERVICE_TOKEN_URL needs SERVICE_CLIENT_ID and SERVICE_CLIENT_SECRET')
    return { kind: 'client-credentials', authorization: renewing(() => clientCredentials({ settings, scope, timeoutMs, log })) }
  }
  if (settings.privateJwk) {
    let jwk: JWK
    try {
      jwk = JSON.parse(settings.privateJwk) as JWK
      if (!jwk.d || !jwk.alg) throw new Error()
    } catch {
      throw new Error('invalid configuration: SERVICE_PRIVATE_JWK: not a private JWK with an alg (bun run token -- --service-keys makes one)')
    }
    const key = importJWK(jwk, jwk.alg)
    const kid = jwk.kid?.startsWith(`${name}:`) ? jwk.kid : name
    return {
      kind: 'own-key',
      authorization: renewing(async () => {
        const now = Math.floor(Date.now() / 1000)
        const token = await new SignJWT({ scope })
          .setProtectedHeader({ alg: jwk.alg!, kid, typ: 'JWT' })
          .setIssuer(name)
          .setSubject(name)
          .setAudience(settings.audience)
          .setIssuedAt(now)
          .setExpirationTime(now + LIFETIME_SECONDS)
          .setJti(crypto.randomUUID())
          .sign(await key)
        return { token, expiresAt: (now + LIFETIME_SECONDS) * 1000 }
      }),
    }
  }
  return undefined
}

/** One token at a time, fetched again shortly before it expires; callers meanwhile share one fetch. */
function renewing(fetchToken: () => Promise<{ token: string; expiresAt: number }>) {
  let current: { header: string; renewAt: number } | undefined
  let fetching: Promise<string> | undefined
  return async () => {
    if (current && current.renewAt > Date.now()) return current.header
    fetching ??= fetchToken()
      .then(({ token, expiresAt }) => {
        current = { header: `Bearer ${token}`, renewAt: Math.max(Date.now(), expiresAt - RENEW_BEFORE_MS) }
        return current.header
      })
      .finally(() => (fetching = undefined))
    return fetching
  }
}

async function clientCredentials({
  settings,
  scope,
  timeoutMs,
  log,
}: {
  settings: ServiceCredentialSettings
  scope: string
  timeoutMs: number
  log: Log
}) {
  // RFC 6749 2.3.1: client id and secret form-encoded, then Basic
  const basic = btoa(`${encodeURIComponent(settings.clientId!)}:${encodeURIComponent(settings.clientSecret!)}`)
  let res: Response
  try {
    res = await fetch(settings.tokenUrl!, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope, audience: settings.audience }),
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    log.warn('identity provider unreachable for a service token', { err: String(err) })
    throw unavailable('Our identity provider is not answering; try again shortly.', 2)
  }
  const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown; error?: unknown }
  if (!res.ok || typeof body.access_token !== 'string') {
    // the secret is never logged, only what the provider said
    log.error('identity provider refused the service token request', { status: res.status, error: String(body.error ?? '') })
    throw unavailable('A service credential could not be obtained; try again shortly.', 5)
  }
  const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : LIFETIME_SECONDS
  return { token: body.access_token, expiresAt: Date.now() + seconds * 1000 }
}
