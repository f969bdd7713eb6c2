/**
 * Counters for the rate limits: in Redis, which every replica adds to (exact ones in one grouped
 * round trip, batched ones for the hot path), or in this process alone for a service without Redis.
 */
import { grouped } from '../data/group-commit.ts'
import type { Redis } from '../cache/redis.ts'

/**
 * Counters in Redis that every replica adds to: the rate limits' counts per caller and window.
 * `exactCounts` asks Redis for each count (many at once share one round trip); `batchedCount`
 * counts here and tells Redis every few milliseconds, for the hot path.
 */
export type Counts = {
  /** Adds `by` (1) to a counter that lives `windowSeconds`; undefined when Redis is down. */
  count(key: string, windowSeconds: number, by?: number): Promise<number | undefined>
}
type Count = (key: string, windowSeconds: number) => Promise<number | undefined>

/** Exact counts under `prefix`: INCRBY with an expiry, grouped into one MULTI while one is on its way. */
export function exactCounts({ client, warn }: Redis, prefix: string): Counts {
  // Counts that arrive while one is on its way go together in one MULTI (one round trip for
  // many requests); each caller still gets its own exact value, as if it had counted alone:
  // counts of one key in a group are one INCRBY of their sum, the k-th of n gets total - (n - k)
  // worth of what came after it.
  type Counting = { key: string; windowSeconds: number; by: number }
  const countTogether = grouped(async (counts: Counting[]): Promise<(number | undefined)[]> => {
    // a MULTI waits for a reconnection instead of failing at once like single commands do
    if (!client.isReady) {
      warn('redis unavailable; rate limits not applied', {})
      return counts.map(() => undefined)
    }
    const sums = new Map<string, { by: number; windowSeconds: number }>()
    for (const c of counts) {
      const s = sums.get(c.key)
      if (s) s.by += c.by
      else sums.set(c.key, { by: c.by, windowSeconds: c.windowSeconds })
    }
    try {
      const multi = client.multi()
      for (const [key, s] of sums) multi.incrBy(`${prefix}${key}`, s.by).expire(`${prefix}${key}`, s.windowSeconds, 'NX')
      const replies = await multi.exec()
      const totals = new Map([...sums.keys()].map((key, i) => [key, Number(replies[2 * i])]))
      // walk back from each key's total: the last caller of a key gets the total
      const answers: number[] = new Array(counts.length)
      for (let i = counts.length - 1; i >= 0; i--) {
        const c = counts[i]!
        answers[i] = totals.get(c.key)!
        totals.set(c.key, answers[i]! - c.by)
      }
      return answers
    } catch (err) {
      warn('redis unavailable; rate limits not applied', { err: String(err) })
      return counts.map(() => undefined)
    }
  })
  return { count: (key, windowSeconds, by = 1) => countTogether({ key, windowSeconds, by }) }
}

/**
 * A counter shared through Redis that does not cost a round trip per request. The first count of
 * a key in this process asks Redis (exact); later ones are counted here and sent as one INCRBY
 * per key every `flushMs`, and each answer brings back what all replicas counted. So a replica
 * knows the shared count up to its own last `flushMs` of traffic elsewhere: other replicas can
 * overshoot a limit by what they see in that time, this one never. Redis slower than `flushMs`:
 * one INCRBY per key is on its way at a time, and what is counted meanwhile goes in the next.
 * Redis down: `undefined` for a key never counted, otherwise the counting goes on here alone.
 */
export function batchedCount(cache: Counts, flushMs = 50): Count & { flush(): Promise<void> } {
  // pending: not sent yet; inflight: sent, not answered (both still count in the local answer)
  type State = { known: number; inflight: number; pending: number; window: number; ends: number }
  type Sending = { sending?: Promise<void>; next?: Promise<void> }
  const states = new Map<string, State & Sending>()
  let timer: ReturnType<typeof setTimeout> | undefined
  const answer = (s: State) => s.known + s.inflight + s.pending

  // Taken out of `pending` before the await: a flush starting while this one waits for Redis
  // must not read (and send) the same counts again.
  async function sendPending(key: string, s: State) {
    const sending = s.pending
    if (!sending) return
    s.pending = 0
    s.inflight += sending
    // a failure is Redis down too: the counts are kept, never lost or left in flight
    const total = await cache.count(key, s.window, sending).catch(() => undefined)
    s.inflight -= sending
    if (total === undefined) return void (s.pending += sending) // kept, sent with the next flush
    s.known = Math.max(s.known, total)
  }

  // One send per key at a time: each answer then covers all counts sent before it, none still
  // in `inflight` to count twice here, and a stalled Redis gets one call per key, not one per
  // flushMs. A flush meanwhile waits for it and sends what came after, in one more call.
  function send(key: string, s: State & Sending): Promise<void> {
    if (!s.sending) {
      s.sending = sendPending(key, s).finally(() => (s.sending = undefined))
      return s.sending
    }
    s.next ??= s.sending.then(() => {
      s.next = undefined
      return send(key, s)
    })
    return s.next
  }

  async function flush() {
    clearTimeout(timer)
    timer = undefined
    const now = Date.now()
    await Promise.all(
      [...states].map(([key, s]) => {
        if (s.ends <= now) return void states.delete(key) // its window is over
        return send(key, s)
      }),
    )
  }

  const count: Count = async (key, windowSeconds) => {
    const state = states.get(key)
    if (state) {
      state.pending++
      timer ??= setTimeout(() => void flush(), flushMs)
      return answer(state)
    }
    const total = await cache.count(key, windowSeconds)
    if (total === undefined) return undefined
    const again = states.get(key) // another request of the same key may have got here first
    if (again) {
      again.known = Math.max(again.known, total)
      return answer(again)
    }
    states.set(key, { known: total, inflight: 0, pending: 0, window: windowSeconds, ends: Date.now() + windowSeconds * 1000 })
    return total
  }
  return Object.assign(count, { flush })
}

/**
 * Counts kept in this process only, for a service without Redis: each replica counts its own
 * callers, so a limit holds per replica (n replicas let a caller through up to n times the limit,
 * or less where the load balancer keeps a caller on one replica). At most `maxKeys` counters are
 * held; a window that ended is forgotten, and past the bound the oldest counter goes first.
 */
export function localCounts(maxKeys = 100_000): Counts {
  const counters = new Map<string, { n: number; ends: number }>() // in insertion order: oldest first
  return {
    async count(key, windowSeconds, by = 1) {
      const now = Date.now()
      let counter = counters.get(key)
      if (!counter || counter.ends <= now) {
        counters.delete(key)
        if (counters.size >= maxKeys) {
          for (const [k, c] of counters) if (c.ends <= now) counters.delete(k)
          if (counters.size >= maxKeys) counters.delete(counters.keys().next().value!)
        }
        counters.set(key, (counter = { n: 0, ends: now + windowSeconds * 1000 }))
      }
      counter.n += by
      return counter.n
    },
  }
}
