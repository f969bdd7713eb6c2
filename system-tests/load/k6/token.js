// Access tokens for the k6 scripts, minted in setup() with k6's WebCrypto (global `crypto`,
// k6 >= 1.0) from the local development key: pass it as
//   -e JWT_PRIVATE_JWK="$(cat .shop-dev/jwt-private.jwk.json)"
// (`bun run token` makes that key on first use; the services must trust its public key).
import encoding from 'k6/encoding'

/** @param {string} text */
const b64url = (text) => encoding.b64encode(text, 'rawurl')

/**
 * An ES256 JWT for `sub` with `scope`, valid for `seconds`; issuer and audience as the services
 * expect them by default (JWT_ISSUER, JWT_AUDIENCE).
 * @param {{ sub: string, scope: string, seconds?: number }} claims
 */
export async function mintToken({ sub, scope, seconds = 3600 }) {
  if (!__ENV.JWT_PRIVATE_JWK) throw new Error('set -e JWT_PRIVATE_JWK="$(cat .shop-dev/jwt-private.jwk.json)"')
  const jwk = JSON.parse(__ENV.JWT_PRIVATE_JWK)
  const now = Math.floor(Date.now() / 1000)
  const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: jwk.kid }))
  const payload = b64url(
    JSON.stringify({ sub, scope, iss: __ENV.JWT_ISSUER || 'shop-local', aud: __ENV.JWT_AUDIENCE || 'shop', iat: now, exp: now + seconds }),
  )
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  // WebCrypto's ECDSA signature is r || s, which is exactly what JWS ES256 wants
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new TextEncoder().encode(`${header}.${payload}`))
  return `${header}.${payload}.${encoding.b64encode(signature, 'rawurl')}`
}
