import { describe, expect, it } from 'bun:test'
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose'
import { createLog } from '../observability/log.ts'
import { DomainError } from '../core/errors.ts'
import { serviceCredential } from '../security/service-token.ts'

const log = createLog('test', 'silent')

describe("a service's own credential", () => {
  it('when signed with its own key, then the token names the service, carries the scope, lives minutes, and is reused', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const privateJwk = JSON.stringify({ ...(await exportJWK(privateKey)), alg: 'ES256' })
    const credential = serviceCredential({ name: 'order', scope: 'things:check', settings: { privateJwk, audience: 'shop' }, log })!
    expect(credential.kind).toBe('own-key')
    const header = await credential.authorization()
    const token = header.slice('Bearer '.length)
    const claims = decodeJwt(token)
    expect(decodeProtectedHeader(token).kid).toBe('order')
    expect(claims).toMatchObject({ iss: 'order', sub: 'order', aud: 'shop', scope: 'things:check' })
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300)
    expect(await credential.authorization()).toBe(header)
  })

  it('when the identity provider is unreachable, then the call fails as Unavailable (a 503 with Retry-After), never hangs', async () => {
    const credential = serviceCredential({
      name: 'order',
      scope: 'things:check',
      settings: { tokenUrl: 'http://127.0.0.1:9/token', clientId: 'a', clientSecret: 'b', audience: 'shop' },
      log,
      timeoutMs: 500,
    })!
    const err = await credential.authorization().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DomainError)
    expect((err as DomainError).kind).toBe('Unavailable')
    expect((err as DomainError).retryAfterSeconds).toBeGreaterThan(0)
  })

  it('when nothing is configured, then there is no credential; when half of client credentials is, then the start fails', () => {
    expect(serviceCredential({ name: 'order', scope: 'things:check', settings: { audience: 'shop' }, log })).toBeUndefined()
    expect(() => serviceCredential({ name: 'order', scope: 's', settings: { tokenUrl: 'http://idp/token', audience: 'shop' }, log })).toThrow('SERVICE_CLIENT_ID')
    expect(() => serviceCredential({ name: 'order', scope: 's', settings: { privateJwk: '{"kty":"EC"}', audience: 'shop' }, log })).toThrow('SERVICE_PRIVATE_JWK')
  })
})
