import { describe, expect, it } from 'bun:test'
import { claimsOf, describeToken, tokensInFragment } from '../src/tokens.ts'
import { retryAfterOf, newKey } from '../src/http.ts'

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

describe('tokens from a link', () => {
  it('when the fragment carries customer and staff, then both are taken and the rest of the fragment is kept', () => {
    expect(tokensInFragment('#customer=aaa.bbb.ccc&staff=ddd.eee.fff&tab=x')).toEqual({ tokens: { customer: 'aaa.bbb.ccc', staff: 'ddd.eee.fff' }, rest: 'tab=x' })
    expect(tokensInFragment('#products-title')).toEqual({ tokens: {}, rest: 'products-title=' })
    expect(tokensInFragment('')).toEqual({ tokens: {}, rest: '' })
  })

  it("when a token is shown, then its subject, scope and expiry are read (never trusted), and a token that is not a JWT says so", () => {
    expect(claimsOf(jwt({ sub: 'customer-1', scope: 'orders:write', exp: 1 }))).toEqual({ sub: 'customer-1', scope: 'orders:write', exp: 1 })
    expect(describeToken(jwt({ sub: 'staff-1', scope: 'products:write', exp: 1 }), 5000)).toBe('staff-1 (products:write), expired')
    expect(describeToken('not-a-jwt')).toBe('set (not a readable JWT)')
    expect(describeToken(undefined)).toBe('none')
  })
})

describe('the answers of the shop', () => {
  it('when Retry-After is seconds or a date, then it is read as seconds from now', () => {
    expect(retryAfterOf('3')).toBe(3)
    expect(retryAfterOf(new Date(10_000).toUTCString(), 4_000)).toBe(6)
    expect(retryAfterOf(null)).toBeUndefined()
    expect(retryAfterOf('soon')).toBeUndefined()
  })

  it('when a key is made for a press of a button, then it is a fresh UUID each time', () => {
    const a = newKey()
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(newKey()).not.toBe(a)
  })
})
