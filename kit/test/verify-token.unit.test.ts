import { describe, expect, it } from 'bun:test'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { createVerifier, failureOf } from '../security/verify-token.ts'
import { DomainError } from '../core/errors.ts'

// The verifier on its own: which tokens are refused from their text alone (no signature
// checked), and what a service's own key may and may not do.
const idp = await generateKeyPair('ES256', { extractable: true })
const orderKey = await generateKeyPair('ES256', { extractable: true })
const orderJwks = JSON.stringify({ keys: [{ ...(await exportJWK(orderKey.publicKey)), kid: 'order', alg: 'ES256' }] })
const settings = {
  enabled: true,
  publicKey: await exportSPKI(idp.publicKey),
  jwksUrl: undefined,
  jwksMaxAgeSeconds: 600,
  jwksCooldownSeconds: 30,
  issuer: 'shop-local',
  audience: 'shop',
  clockToleranceSeconds: 30,
  serviceJwks: orderJwks,
}
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const now = () => Math.floor(Date.now() / 1000)
const sign = (claims: Record<string, unknown>, key = idp.privateKey, kid?: string) =>
  new SignJWT({ scope: 'things:buy', ...claims })
    .setProtectedHeader({ alg: 'ES256', ...(kid ? { kid } : {}) })
    .setIssuer((claims.iss as string) ?? 'shop-local')
    .setSubject((claims.sub as string) ?? 'alice')
    .setAudience('shop')
    .setExpirationTime((claims.exp as number) ?? now() + 600)
    .sign(key)

const refusal = async (promise: Promise<unknown>) => {
  const err = await promise.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(DomainError)
  return { reason: failureOf(err), status: (err as DomainError).kind }
}

// the scopes a service would hand the kit; `things:check` only services hold
const vocabulary = { scopes: ['things:write', 'things:buy', 'things:check'], serviceScopes: ['things:check'] }

describe('token checks, cheapest first', () => {
  const cheap: [string, () => Promise<string>, string][] = [
    ['not a JWT', async () => 'garbage', 'malformed'],
    ['alg none', async () => `${b64({ alg: 'none' })}.${b64({ sub: 'a', exp: now() + 60, iss: 'shop-local' })}.`, 'algorithm'],
    ['HS256', async () => `${b64({ alg: 'HS256' })}.${b64({ sub: 'a', exp: now() + 60, iss: 'shop-local' })}.c2ln`, 'algorithm'],
    ['expired', () => sign({ exp: now() - 120 }), 'expired'],
    ['an unknown issuer', () => sign({ iss: 'https://evil.example' }), 'issuer'],
  ]
  for (const [name, make, reason] of cheap)
    it(`when the token is ${name}, then it is refused (${reason}) without any signature being checked`, async () => {
      const verify = createVerifier(settings, vocabulary)
      expect(await refusal(verify(`Bearer ${await make()}`))).toEqual({ reason: reason as never, status: 'Unauthorized' })
      expect(verify.signatureChecks()).toBe(0)
    })

  it('when a well-formed token is signed by another key, then the signature check refuses it', async () => {
    const verify = createVerifier(settings, vocabulary)
    const other = await generateKeyPair('ES256')
    expect(await refusal(verify(`Bearer ${await sign({}, other.privateKey)}`))).toEqual({ reason: 'invalid', status: 'Unauthorized' })
    expect(verify.signatureChecks()).toBe(1)
  })

  it('when a good token comes again, then it is remembered and not checked twice', async () => {
    const verify = createVerifier(settings, vocabulary)
    const header = `Bearer ${await sign({})}`
    expect((await verify(header)).sub).toBe('alice')
    expect(verify.remembered(header)?.sub).toBe('alice')
    await verify(header)
    expect(verify.signatureChecks()).toBe(1)
  })
})

describe("a service's own key", () => {
  it('when order signs a token with its key, then it is a service caller holding only service scopes', async () => {
    const verify = createVerifier(settings, vocabulary)
    const caller = await verify(`Bearer ${await sign({ iss: 'order', sub: 'order', scope: 'things:check things:write' }, orderKey.privateKey, 'order')}`)
    expect(caller).toEqual({ sub: 'order', scopes: new Set(['things:check']), service: true })
  })

  it('when a token from the identity provider carries the service scope (client credentials), then it is a service caller too', async () => {
    const caller = await createVerifier(settings, vocabulary)(`Bearer ${await sign({ sub: 'order-client', scope: 'things:check' })}`)
    expect(caller.service).toBe(true)
  })

  it("when order's key signs as another service or another subject, then it is refused", async () => {
    const verify = createVerifier(settings, vocabulary)
    const asOther = await sign({ iss: 'order', sub: 'alice', scope: 'things:check' }, orderKey.privateKey, 'order')
    expect((await refusal(verify(`Bearer ${asOther}`))).status).toBe('Unauthorized')
    const otherKid = await sign({ iss: 'order', sub: 'order' }, orderKey.privateKey, 'inventory')
    expect((await refusal(verify(`Bearer ${otherKid}`))).status).toBe('Unauthorized')
  })

  it("when the identity provider's key signs a token naming the service as issuer, then it is refused", async () => {
    const forged = await sign({ iss: 'order', sub: 'order', scope: 'things:check' }, idp.privateKey, 'order')
    expect((await refusal(createVerifier(settings, vocabulary)(`Bearer ${forged}`))).reason).toBe('invalid')
  })

  it('when SERVICE_JWKS holds a private key or no kid, then the start fails', () => {
    expect(() => createVerifier({ ...settings, serviceJwks: '{"keys":[{"kty":"EC"}]}' }, vocabulary)).toThrow('SERVICE_JWKS')
    expect(() => createVerifier({ ...settings, serviceJwks: '{"keys":[{"kty":"EC","kid":"order","d":"x"}]}' }, vocabulary)).toThrow('SERVICE_JWKS')
  })
})
