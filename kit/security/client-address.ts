/**
 * Who the client is: the socket's peer, or what a trusted proxy reports for it.
 */
import { BlockList, isIP } from 'node:net'

/**
 * Who the client is, for rate limits, logs and traces. The peer of the socket, unless that peer
 * is one of TRUSTED_PROXIES: then the hops it reports (`Forwarded: for=`, RFC 7239, else
 * `X-Forwarded-For`) are walked from the right, skipping trusted proxies, and the first address
 * that is not one is the client. Everything left of it was written by the client itself and is
 * never believed. With no trusted proxy (the default) the headers are ignored.
 *
 * Node's `net.BlockList` (in Bun and Deno too) matches addresses and CIDR ranges, IPv4 and IPv6,
 * including IPv4-mapped IPv6 peers; the headers' grammar is a few lines, so no proxy-addr or
 * forwarded-parse (which know X-Forwarded-For or Forwarded, not both).
 */
export type ClientAddress = (peer: string | undefined, headers: Headers) => string

/** Parses TRUSTED_PROXIES: addresses and CIDR ranges, comma-separated; a bad entry stops the start. */
export function trustedProxies(list: string): BlockList {
  const trusted = new BlockList()
  for (const entry of list.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [address, bits, extra] = entry.split('/')
    const family = isIP(address ?? '')
    const prefix = Number(bits)
    const valid = family && extra === undefined && (bits === undefined || (/^\d+$/.test(bits) && prefix <= (family === 4 ? 32 : 128)))
    if (!valid) throw new Error(`invalid configuration: TRUSTED_PROXIES: "${entry}" is not an address or a CIDR range`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (bits === undefined) trusted.addAddress(address!, type)
    else trusted.addSubnet(address!, prefix, type)
  }
  return trusted
}

/** `::ffff:10.0.0.1` -> `10.0.0.1`; an address as a socket or a header gives it, else undefined. */
function normalized(address: string): string | undefined {
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
  return isIP(plain) ? plain : undefined
}

/** One `for=` value of RFC 7239 (quoted, `[v6]:port`, `v4:port`) or one X-Forwarded-For entry. */
function hopAddress(raw: string): string | undefined {
  let value = raw.trim()
  if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
  if (value.startsWith('[')) return normalized(value.slice(1, value.indexOf(']')))
  if (isIP(value)) return normalized(value)
  const colon = value.lastIndexOf(':')
  return colon > 0 && value.indexOf(':') === colon ? normalized(value.slice(0, colon)) : undefined
}

/** The hops a proxy reported, nearest last. */
function reportedHops(headers: Headers): string[] | undefined {
  const forwarded = headers.get('forwarded')
  if (forwarded) {
    const hops: string[] = []
    for (const element of forwarded.split(',')) {
      const pair = element.split(';').find((p) => p.trim().toLowerCase().startsWith('for='))
      hops.push(pair ? pair.trim().slice(4) : '')
    }
    return hops
  }
  return headers.get('x-forwarded-for')?.split(',')
}

export function clientAddress(trusted: BlockList): ClientAddress {
  const isTrusted = (address: string) => trusted.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6')
  return (peer, headers) => {
    let client = peer ? (normalized(peer) ?? peer) : 'unknown'
    if (!peer || !isTrusted(client)) return client
    const hops = reportedHops(headers)
    if (!hops) return client
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hopAddress(hops[i]!)
      // a hop that is no address (`unknown`, `_hidden`, garbage): the proxy that reported it is
      // the most that is known, and nobody left of it can choose their bucket
      if (!hop) return client
      client = hop
      if (!isTrusted(hop)) return hop
    }
    return client
  }
}

/** The socket's peer: Bun's server knows it; on Deno, serve.ts notes it per request. */
const peers = new WeakMap<Request, string>()
export const notePeerAddress = (request: Request, address: string) => void peers.set(request, address)

type Server = { requestIP?(r: Request): { address: string } | null } | null | undefined

/** The client of a request, worked out once (asking Bun for the peer is a getpeername syscall). */
export type RequestClient = (request: Request, server: unknown) => string
export function requestClient(resolve: ClientAddress): RequestClient {
  const known = new WeakMap<Request, string>()
  return (request: Request, server: unknown): string => {
    let client = known.get(request)
    if (client === undefined) {
      client = resolve((server as Server)?.requestIP?.(request)?.address ?? peers.get(request), request.headers)
      known.set(request, client)
    }
    return client
  }
}
