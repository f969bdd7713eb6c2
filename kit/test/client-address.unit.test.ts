import { describe, expect, it } from 'bun:test'
import { clientAddress, trustedProxies } from '../security/client-address.ts'

const resolve = (trusted: string) => {
  const of = clientAddress(trustedProxies(trusted))
  return (peer: string, headers: Record<string, string> = {}) => of(peer, new Headers(headers))
}

describe('client address', () => {
  it('when no proxy is trusted (the default), then the peer is the client whatever the headers say', () => {
    const of = resolve('')
    expect(of('192.0.2.1', { 'x-forwarded-for': '198.51.100.9', forwarded: 'for=198.51.100.9' })).toBe('192.0.2.1')
  })

  it('when the peer is trusted, then the client is the right-most address of X-Forwarded-For that is not a trusted proxy', () => {
    const of = resolve('10.0.0.0/8, 192.0.2.10')
    expect(of('10.1.2.3', { 'x-forwarded-for': '6.6.6.6, 198.51.100.9, 10.9.9.9' })).toBe('198.51.100.9')
    expect(of('192.0.2.10', { 'x-forwarded-for': '198.51.100.9' })).toBe('198.51.100.9')
    expect(of('10.1.2.3', { 'x-forwarded-for': '198.51.100.9' }, )).toBe('198.51.100.9')
  })

  it('when the peer is not trusted, then its X-Forwarded-For is ignored', () => {
    expect(resolve('10.0.0.0/8')('192.0.2.66', { 'x-forwarded-for': '198.51.100.9' })).toBe('192.0.2.66')
  })

  it('when every hop is a trusted proxy, then the left-most is the client; with no header, the peer', () => {
    const of = resolve('10.0.0.0/8')
    expect(of('10.0.0.1', { 'x-forwarded-for': '10.0.0.3, 10.0.0.2' })).toBe('10.0.0.3')
    expect(of('10.0.0.1')).toBe('10.0.0.1')
  })

  it('when Forwarded (RFC 7239) is sent, then its for= values are read: quoted, with ports, IPv6 in brackets', () => {
    const of = resolve('10.0.0.0/8')
    expect(of('10.0.0.1', { forwarded: 'for=198.51.100.9;proto=https, for="10.0.0.7:8080"' })).toBe('198.51.100.9')
    expect(of('10.0.0.1', { forwarded: 'for="[2001:db8::7]:4711"' })).toBe('2001:db8::7')
    expect(of('10.0.0.1', { forwarded: 'For=192.0.2.60:47011', 'x-forwarded-for': '198.51.100.1' })).toBe('192.0.2.60') // Forwarded wins
  })

  it('when a reported hop is no address (unknown, obfuscated, garbage), then the proxy that reported it is the client', () => {
    const of = resolve('10.0.0.0/8')
    expect(of('10.0.0.1', { forwarded: 'for=unknown' })).toBe('10.0.0.1')
    expect(of('10.0.0.1', { forwarded: 'for=_hidden, for=10.0.0.2' })).toBe('10.0.0.2')
    expect(of('10.0.0.1', { 'x-forwarded-for': '<script>' })).toBe('10.0.0.1')
  })

  it('when the peer is an IPv4-mapped IPv6 address, then it is matched and reported as IPv4', () => {
    const of = resolve('10.0.0.0/8')
    expect(of('::ffff:10.0.0.1', { 'x-forwarded-for': '198.51.100.9' })).toBe('198.51.100.9')
    expect(of('::ffff:192.0.2.1')).toBe('192.0.2.1')
  })

  it('when IPv6 ranges are trusted, then IPv6 peers and hops are matched by prefix', () => {
    const of = resolve('fd00::/8')
    expect(of('fd12::1', { 'x-forwarded-for': '2001:db8::1, fd00::2' })).toBe('2001:db8::1')
  })

  it('when TRUSTED_PROXIES holds something that is not an address or a range, then the start fails naming it', () => {
    expect(() => trustedProxies('10.0.0.0/8, ingress')).toThrow('TRUSTED_PROXIES: "ingress"')
    expect(() => trustedProxies('10.0.0.0/33')).toThrow('"10.0.0.0/33"')
    expect(() => trustedProxies('10.0.0.0/8/1')).toThrow()
  })
})
