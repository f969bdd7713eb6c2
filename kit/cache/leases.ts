/**
 * Read leases for the near cache: a replica answers from process memory, with no round trip,
 * only while it holds a lease that every writer waits on.
 *
 * The protocol, in Redis (keys under `<prefix>near:`):
 * - a holder renews its lease every quarter lease (`RENEW`): `lease:<id>` with a TTL of the lease
 *   time, and its id in the `holders` set, scored by when the lease ends on Redis' clock. A
 *   renewal is refused while the holder has unanswered fences (`pending:<id>` not empty), so a
 *   holder that misses them loses its lease within one lease time;
 * - a holder uses memory until its renewal's *send* time plus the lease time, shortened for clock
 *   rate drift and a margin, on the monotonic clock (`usableUntil`). Redis' key outlives that,
 *   since Redis set it after the holder sent it;
 * - a writer, after its INCR of the changed generation, fences (`FENCE`): every holder whose lease
 *   is live gets a token in its `pending` set and a wake-up on its `sync:<id>` channel. The writer
 *   answers once each holder acknowledged, or once that holder's lease must have ended
 *   (`waitBound`), whichever is first. So a dead, frozen or cut-off holder costs a writer one lease
 *   time at most, never a stale read;
 * - a holder acknowledges a token only after reading it on its tracking connection (`settle`).
 *   Redis answers in order, and the token was added after the writer's INCR, so by then the INCR's
 *   invalidation has reached this holder and the key is dropped;
 * - a holder whose lease had ended in Redis (a new one, `RENEW` = 2) was maybe skipped by a
 *   writer meanwhile: it reads its own lease key on the tracking connection before it uses
 *   memory again, which proves the invalidations of every write before the renewal have arrived.
 */
import type { Log } from '../observability/log.ts'

export type LeaseTiming = {
  /** how long a lease lasts in Redis; the longest a writer waits on a holder that does not answer */
  leaseMs: number
  /** the largest clock rate difference allowed for between two processes (0.01: 1%) */
  drift: number
  /** time taken off every lease on the holder's side, and added to every wait on the writer's */
  marginMs: number
}

/** A lease of `leaseMs`, with the clock rate drift (1%) and margin (25 ms) every lease allows for. */
export const leaseTiming = (leaseMs = 2000): LeaseTiming => ({ leaseMs, drift: 0.01, marginMs: 25 })

/** Until when (monotonic ms) a holder may answer from memory, for a renewal sent at `sentAt`. */
export const usableUntil = (sentAt: number, t: LeaseTiming) => sentAt + t.leaseMs * (1 - t.drift) - t.marginMs

/** How long a writer waits, at most, on a holder whose lease had `ttlMs` left in Redis. */
export const waitBound = (ttlMs: number, t: LeaseTiming) => Math.ceil(Math.max(0, ttlMs) * (1 + t.drift) + t.marginMs)

/** A fence token names the writer it answers: `<writer id>:<n>`. */
export const writerOf = (token: string) => token.slice(0, token.lastIndexOf(':'))

/** `[id, ttl, id, ttl, …]` from FENCE, as pairs. */
export function holdersOf(reply: unknown): { id: string; ttlMs: number }[] {
  const flat = Array.isArray(reply) ? reply : []
  const out: { id: string; ttlMs: number }[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: String(flat[i]), ttlMs: Number(flat[i + 1]) })
  return out
}

// KEYS: lease, pending, holders; ARGV: id, lease ms. 0: refused (fences pending), 1: extended, 2: new.
const RENEW = `
if redis.call('SCARD', KEYS[2]) > 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local had = redis.call('PTTL', KEYS[1]) > 0
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[1])
if had then return 1 end
return 2`

// KEYS: holders; ARGV: key prefix (`<prefix>near:`), token, pending TTL ms. Returns [id, ttl, …].
const FENCE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - 1000)) -- ended a second ago: the lease key decides
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local ttl = redis.call('PTTL', ARGV[1] .. 'lease:' .. id)
  if ttl > 0 then
    redis.call('SADD', ARGV[1] .. 'pending:' .. id, ARGV[2])
    redis.call('PEXPIRE', ARGV[1] .. 'pending:' .. id, ARGV[3])
    redis.call('PUBLISH', ARGV[1] .. 'sync:' .. id, ARGV[2])
    table.insert(out, id)
    table.insert(out, ttl)
  end
end
return out`

/** What the leases need of a Redis connection: the commands, as node-redis names them. */
export type LeaseRedis = {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
  sMembers(key: string): Promise<string[]>
  pTTL(key: string): Promise<number>
  multi(): { sRem(key: string, members: string[]): unknown; publish(channel: string, message: string): unknown; exec(): Promise<unknown> }
}

/** A subscription: `listen(channel, fn)` on a connection of its own (node-redis subscribes again after a reconnect). */
export type LeaseSubscriber = { subscribe(channel: string, listener: (message: string) => void): Promise<unknown> }

export type Leases = {
  /** This process' holder id (its keys are `<prefix>near:lease:<id>`, …). */
  readonly id: string
  /** Whether memory may answer now, with no round trip. */
  usable(): boolean
  /**
   * After the writes' INCRs: waits until every live holder acknowledged them, or its lease must
   * have ended. Never throws; when Redis cannot be asked, it waits one whole lease time.
   */
  fence(): Promise<void>
  /** Stops renewing; the lease ends in Redis by itself. */
  stop(): void
  /** The holder's part on the wake-up and ack channels: subscribe these once connected. */
  channels: { sync: string; ack: string; onSync(): void; onAck(message: string): void }
  /** Renews (and settles) now; the timer calls it every quarter lease after this first one. */
  tick(): Promise<void>
}

/**
 * One process' leases. `main` is the service's Redis connection (renewals, fences, acks);
 * `tracking` is the near cache's own, whose order of replies is what the proofs rest on.
 */
export function createLeases({
  prefix,
  main,
  tracking,
  timing,
  log,
  now = () => performance.now(),
}: {
  prefix: string
  main: LeaseRedis
  tracking: () => LeaseRedis | undefined
  timing: LeaseTiming
  log: Log
  now?: () => number
}): Leases {
  const id = crypto.randomUUID()
  const base = `${prefix}near:`
  const keys = { lease: `${base}lease:${id}`, pending: `${base}pending:${id}`, holders: `${base}holders` }
  let until = 0 // monotonic ms: memory answers before this
  let seq = 0
  let stopped = false
  // token → the holders that acknowledged it, and the writer's wake-up for each one it waits on.
  // Made before the fence is sent: an ack can arrive before the fence's own reply does.
  const waiting = new Map<string, { acked: Set<string>; wake: Map<string, () => void> }>()

  /** Acknowledges the fences pending for this holder, once its tracking connection has caught up with them. */
  async function settle() {
    const t = tracking()
    if (!t) throw new Error('the tracking connection is not ready')
    const tokens = await t.sMembers(keys.pending) // replies after every invalidation sent before these tokens
    if (!tokens.length) return
    const tx = main.multi().sRem(keys.pending, tokens) as ReturnType<LeaseRedis['multi']>
    for (const token of tokens) tx.publish(`${base}ack:${writerOf(token)}`, `${token}|${id}`)
    await tx.exec()
  }

  async function renew(): Promise<boolean> {
    const sentAt = now()
    const reply = Number(await main.eval(RENEW, { keys: [keys.lease, keys.pending, keys.holders], arguments: [id, String(timing.leaseMs)] }))
    if (reply === 0) return false
    if (reply === 2) {
      // a new lease: a writer may have skipped this holder meanwhile. Reading the lease key on the
      // tracking connection proves that connection's server has the renewal, so every
      // invalidation of a write before it has arrived here.
      const t = tracking()
      if (!t || (await t.pTTL(keys.lease)) <= 0) return false
    }
    until = Math.max(until, usableUntil(sentAt, timing))
    return true
  }

  const quietly = (what: string, fn: () => Promise<unknown>) => async () => {
    try {
      await fn()
    } catch (err) {
      log.debug(what, { err: String(err) })
    }
  }
  // a fence's wake-up: answer it (and any that arrive meanwhile, in one more round)
  const settleNow = coalesced(quietly('near cache fence not answered yet', settle), () => stopped)
  const tick = coalesced(
    quietly('near cache lease not renewed', async () => {
      await settle()
      if (!(await renew())) {
        await settle() // a fence came between: answer it, then try once more
        await renew()
      }
    }),
    () => stopped,
  )
  const timer = setInterval(() => void tick(), Math.max(10, Math.floor(timing.leaseMs / 4)))
  timer.unref?.()

  const ackFrom = (token: string, holder: string) =>
    new Promise<void>((resolve) => {
      const t = waiting.get(token)
      if (!t || t.acked.has(holder)) return resolve()
      t.wake.set(holder, resolve)
    })

  return {
    id,
    usable: () => !stopped && now() < until,
    async fence() {
      const token = `${id}:${++seq}`
      waiting.set(token, { acked: new Set(), wake: new Map() })
      let holders: { id: string; ttlMs: number }[]
      try {
        holders = holdersOf(await main.eval(FENCE, { keys: [keys.holders], arguments: [base, token, String(timing.leaseMs * 10)] }))
      } catch (err) {
        waiting.delete(token)
        // nobody could be told: every lease that may exist ends within one lease time
        log.warn('near cache fence failed; waiting out every lease', { err: String(err) })
        await new Promise((resolve) => setTimeout(resolve, waitBound(timing.leaseMs, timing)))
        return
      }
      if (!holders.length) {
        waiting.delete(token)
        return
      }
      const timers: ReturnType<typeof setTimeout>[] = []
      await Promise.all(
        holders.map(
          (h) =>
            new Promise<void>((resolve) => {
              timers.push(setTimeout(resolve, waitBound(h.ttlMs, timing)))
              void ackFrom(token, h.id).then(resolve)
            }),
        ),
      )
      for (const t of timers) clearTimeout(t)
      waiting.delete(token)
    },
    stop() {
      stopped = true
      clearInterval(timer)
    },
    channels: {
      sync: `${base}sync:${id}`,
      ack: `${base}ack:${id}`,
      onSync: () => void settleNow(),
      onAck(message: string) {
        const [token, holder] = message.split('|')
        const t = waiting.get(token!)
        if (!t) return
        t.acked.add(holder!)
        t.wake.get(holder!)?.()
      },
    },
    tick,
  }
}

/** `fn` run by one caller at a time; a call while it runs makes it run once more afterwards. */
function coalesced(fn: () => Promise<void>, stopped: () => boolean): () => Promise<void> {
  let running: Promise<void> | undefined
  let again = false
  const run = (): Promise<void> => {
    if (running) {
      again = true
      return running
    }
    running = fn().finally(() => {
      running = undefined
      if (again && !stopped()) {
        again = false
        void run()
      }
    })
    return running
  }
  return run
}
