import { Elysia } from 'elysia'
import { forbidden, type Caller, type Scope, type Verifier } from './auth.ts'
import type { Cache } from './cache.ts'
import { batchedCount } from './counters.ts'
import type { LimitSettings } from './env.ts'
import { DomainError } from './errors.ts'
import type { Log } from './log.ts'

/** What a route needs: any one of `scopes` (none: anyone), and the rate-limit bucket it counts in. */
export type Access = { scopes?: Scope[]; limit: keyof LimitSettings['perWindow'] }

/** The client's address, when the runtime knows it: Bun's server, or what serve.ts noted on Deno. */
const addresses = new WeakMap<Request, string>()
export const noteClientAddress = (request: Request, address: string) => addresses.set(request, address)

type Server = { requestIP?(r: Request): { address: string } | null } | null

/**
 * Authentication, authorization and rate limits, declared on the route:
 * `{ access: { scopes: ['products:write'], limit: 'writes' } }`. The route gets `caller`. The
 * declaration also travels into the OpenAPI document (security, 401/403/429) through `detail`.
 * Counters are per window in Redis, so every replica counts the same (reads through
 * `batchedCount`, without a round trip each); Redis down lets requests through (logged by the
 * cache), it never refuses them for that.
 */
export function access(verify: Verifier, cache: Pick<Cache, 'count'>, limits: LimitSettings, log: Log) {
  // reads are the hot path: counted here and sent to Redis in batches; writes stay exact
  const readCount = batchedCount(cache)
  const counters = { reads: readCount, writes: cache.count, orders: cache.count }
  async function charge(rule: Access, who: string) {
    const window = limits.windowSeconds
    const started = Math.floor(Date.now() / 1000 / window) * window
    const limit = limits.perWindow[rule.limit]
    const used = await counters[rule.limit](`rl:${rule.limit}:${who}:${started}`, window)
    if (used === undefined || used <= limit) return
    const reset = Math.max(1, started + window - Math.floor(Date.now() / 1000))
    log.info('rate limited', { bucket: rule.limit, who, used, limit })
    throw new DomainError('TooManyRequests', `More than ${limit} requests in ${window} s; try again in ${reset} s`, [], reset, {
      'ratelimit-limit': String(limit),
      'ratelimit-remaining': '0',
      'ratelimit-reset': String(reset),
      'ratelimit-policy': `${limit};w=${window}`,
    })
  }

  return new Elysia({ name: 'access' }).macro({
    access: (rule: Access) => ({
      detail: { 'x-access': rule } as Record<string, unknown>,
      async resolve({ request, server }): Promise<{ caller: Caller }> {
        const anonymous = !rule.scopes && !request.headers.get('authorization')
        const caller: Caller = anonymous ? { sub: null, scopes: new Set() } : await verify(request.headers.get('authorization'))
        if (rule.scopes && !rule.scopes.some((s) => caller.scopes.has(s))) throw forbidden(rule.scopes.join(' '))
        // the address only for anonymous callers: asking for it is a syscall (getpeername) each time
        const who = caller.sub ? `sub:${caller.sub}` : `ip:${(server as Server)?.requestIP?.(request)?.address ?? addresses.get(request) ?? 'unknown'}`
        await charge(rule, who)
        return { caller }
      },
    }),
  })
}
