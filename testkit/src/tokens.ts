import { exportJWK, exportSPKI, generateKeyPair, importSPKI, SignJWT, type CryptoKey, type JWTPayload } from 'jose'

/**
 * Access tokens for tests and the bench, signed by a key pair made for this process: the
 * services under test get its public key (`authEnv`), as they would get an identity provider's.
 */
export const ISSUER = 'shop-local'
export const AUDIENCE = 'shop'
export const ALL_SCOPES = 'products:write orders:write orders:read'

export type Signer = { privateKey: CryptoKey; publicPem: string; kid: string }

export async function newSigner(kid: string = crypto.randomUUID()): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  return { privateKey, publicPem: await exportSPKI(publicKey), kid }
}

const signer = await newSigner('harness')

export type TokenOptions = {
  sub?: string
  scope?: string
  /** seconds from now; negative for a token that has expired */
  expiresIn?: number
  notBefore?: number
  issuer?: string
  audience?: string
  claims?: JWTPayload
  signer?: Signer
}

export function mintToken(o: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const key = o.signer ?? signer
  const jwt = new SignJWT({ scope: o.scope ?? ALL_SCOPES, ...o.claims })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setSubject(o.sub ?? 'harness')
    .setIssuer(o.issuer ?? ISSUER)
    .setAudience(o.audience ?? AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (o.expiresIn ?? 3600))
  if (o.notBefore !== undefined) jwt.setNotBefore(now + o.notBefore)
  return jwt.sign(key.privateKey)
}

/**
 * A service's own key pair, as order signs its calls to product with it: the private JWK for the
 * caller (SERVICE_PRIVATE_JWK), the public one in a JWKS for the callee (SERVICE_JWKS). The kid
 * names the service.
 */
export async function newServiceKeys(service = 'order') {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const kid = service
  return {
    privateJwk: JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'ES256' }),
    jwks: JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] }),
  }
}
export type ServiceKeys = Awaited<ReturnType<typeof newServiceKeys>>

const orderKeys = await newServiceKeys('order')

/** order signs its product checks with its own key; product trusts that key for them. */
export const serviceAuthEnv = (service: 'product' | 'order', keys: ServiceKeys = orderKeys): Record<string, string> =>
  service === 'order' ? { SERVICE_PRIVATE_JWK: keys.privateJwk } : { SERVICE_JWKS: keys.jwks }

/** The env a service needs to accept this process's tokens. */
export const authEnv = (s: Signer = signer): Record<string, string> => ({
  AUTH: 'on',
  JWT_PUBLIC_KEY: s.publicPem,
  JWT_ISSUER: ISSUER,
  JWT_AUDIENCE: AUDIENCE,
})

let operator: Promise<string> | undefined
/** A token with every scope, good for an hour: what suites that are not about auth send. */
export const operatorToken = () => (operator ??= mintToken({ sub: 'operator' }))

/** The signer's public key as a JWK, as an identity provider publishes it in its JWKS. */
export const publicJwk = async (s: Signer) => ({
  ...(await exportJWK(await importSPKI(s.publicPem, 'ES256'))),
  kid: s.kid,
  alg: 'ES256',
  use: 'sig',
})
