/**
 * Authentication, authorization and rate limits, declared on each route (an Elysia macro) and
 * carried into its API document. Written here rather than taken from a rate-limit plugin: the
 * counts must be shared by every replica through Redis, kept per token subject (else per client
 * address), and cost no round trip on the hot path (counters.ts).
 */
import { Elysia } from 'elysia'
import { failureOf, forbidden, type Caller, type Verifier } from './verify-token.ts'
import type { RequestClient } from './client-address.ts'
import { batchedCount, type Counts } from './rate-counts.ts'
import type { LimitSettings } from '../service/config.ts'
import { DomainError } from '../core/errors.ts'
import type { Log } from '../observability/log.ts'
import type { Metrics } from '../observability/metrics.ts'

/**
 * What a route needs: any one of `scopes` (none: anyone), and the rate-limit bucket (one of the
 * service's own) people count in. A service calling as itself (`caller.service`) counts in the
 * `services` bucket instead.
 */
export type Access<B extends string = string, S extends string = string> = { scopes?: S[]; limit: B }

const ANONYMOUS: Caller = { sub: null, scopes: new Set() }
// addresses whose refused tokens are remembered at once; an attacker rotating addresses makes
// the oldest be forgotten, never the memory grow
const MAX_TRACKED_ADDRESSES = 10_000

const tooMany = ({ what, limit, window, started }: { what: string; limit: number; window: number; started: number }) => {
  const reset = Math.max(1, started + window - Math.floor(Date.now() / 1000))
  return new DomainError('TooManyRequests', `More than ${limit} ${what} in ${window} s; try again in ${reset} s`, [], reset, {
    'ratelimit-limit': String(limit),
    'ratelimit-remaining': '0',
    'ratelimit-reset': String(reset),
    'ratelimit-policy': `${limit};w=${window}`,
  })
}
const windowOf = (window: number) => Math.floor(Date.now() / 1000 / window) * window

/**
 * Refused tokens, counted per client address in Redis (so every replica adds to one count) and
 * remembered here: an address past the limit is answered 429 from memory, before its token is
 * even parsed. A replica learns the shared count with each refusal it sees itself, so across n
 * replicas an address gets at most n - 1 refusals more than the limit.
 */
function refusedTokens(cache: Counts, limits: LimitSettings, log: Log) {
  const window = limits.windowSeconds
  const limit = limits.authFailures
  const known = new Map<string, { count: number; started: number }>()
  return {
    stopIfOver(address: string) {
      const seen = known.get(address)
      if (seen && seen.started === windowOf(window) && seen.count >= limit) throw tooMany({ what: 'refused tokens', limit, window, started: seen.started })
    },
    async count(address: string) {
      const started = windowOf(window)
      let seen = known.get(address)
      if (!seen || seen.started !== started) {
        known.delete(address)
        if (known.size >= MAX_TRACKED_ADDRESSES) known.delete(known.keys().next().value!)
        known.set(address, (seen = { count: 0, started }))
      }
      const before = seen.count
      seen.count++
      const total = await cache.count(`rl:refused:ip:${address}:${started}`, window)
      if (total !== undefined) seen.count = Math.max(seen.count, total)
      // once per address and window, not once per token
      if (before < limit && seen.count >= limit) log.warn('refused tokens over the limit; 429 until the window ends', { client: address, limit, window })
    },
  }
}

/**
 * Authentication, authorization and rate limits, declared on the route:
 * `{ access: { scopes: ['things:write'], limit: 'writes' } }`. The route gets `caller`. The
 * declaration also travels into the OpenAPI document (security, 401/403/429) through `detail`.
 * Counters are per window in Redis, so every replica counts the same (reads through
 * `batchedCount`, without a round trip each); Redis down lets requests through (logged by the
 * cache), it never refuses them for that. A caller is its token's `sub`, or, without a token,
 * its client address (`clientOf`: the peer, or what a trusted proxy reports).
 */
export function access<B extends string>({
  verify,
  counts,
  limits,
  log,
  clientOf,
  metrics,
}: {
  verify: Verifier
  counts: Counts
  limits: LimitSettings<B>
  log: Log
  clientOf: RequestClient
  metrics?: Metrics
}) {
  type Bucket = B | 'services'
  // the hot buckets (reads, and services calling each other) are counted here and sent to Redis
  // in batches; the others stay exact, one round trip each
  const batched = batchedCount(counts)
  const hot = new Set<string>([...limits.batched, 'services'])
  const counterOf = (bucket: Bucket) => (hot.has(bucket) ? batched : counts.count)
  const refused = refusedTokens(counts, limits, log)
  const failures = metrics?.counter('shop_auth_failures_total', 'Bearer tokens refused, by reason (limited: refused unread, the address being over its limit)', ['reason'])

  async function charge(bucket: Bucket, who: string) {
    const window = limits.windowSeconds
    const started = windowOf(window)
    const limit = limits.perWindow[bucket]
    const used = await counterOf(bucket)(`rl:${bucket}:${who}:${started}`, window)
    if (used === undefined || used <= limit) return
    log.info('rate limited', { bucket, who, used, limit })
    throw tooMany({ what: 'requests', limit, window, started })
  }

  /** A token not seen lately: refused unread when its address is over the limit, counted when refused. */
  async function verifyCounted(authorization: string | null, request: Request, server: unknown): Promise<Caller> {
    if (!authorization) return verify(authorization) // a 401 that cost nothing: not counted
    const address = clientOf(request, server)
    try {
      refused.stopIfOver(address)
    } catch (err) {
      failures?.inc({ reason: 'limited' })
      throw err
    }
    try {
      return await verify(authorization)
    } catch (err) {
      const reason = failureOf(err)
      if (reason) {
        failures?.inc({ reason })
        await refused.count(address)
      }
      throw err
    }
  }

  return new Elysia({ name: 'access' }).macro({
    access: (rule: Access<B>) => ({
      detail: { 'x-access': rule } as Record<string, unknown>,
      async resolve({ request, server }): Promise<{ caller: Caller }> {
        const authorization = request.headers.get('authorization')
        const caller =
          !rule.scopes && !authorization ? ANONYMOUS : (verify.remembered(authorization) ?? (await verifyCounted(authorization, request, server)))
        if (rule.scopes && !rule.scopes.some((s) => caller.scopes.has(s))) throw forbidden(rule.scopes.join(' '))
        // the address only for anonymous callers: asking for it is a syscall (getpeername) each time
        const who = caller.service ? `svc:${caller.sub}` : caller.sub ? `sub:${caller.sub}` : `ip:${clientOf(request, server)}`
        await charge(caller.service ? 'services' : rule.limit, who)
        return { caller }
      },
    }),
  })
}
