import type { Cache } from './cache.ts'

type Count = (key: string, windowSeconds: number) => Promise<number | undefined>

/**
 * A counter shared through Redis that does not cost a round trip per request. The first count of
 * a key in this process asks Redis (exact); later ones are counted here and sent as one INCRBY
 * per key every `flushMs`, and each answer brings back what all replicas counted. So a replica
 * knows the shared count up to its own last `flushMs` of traffic elsewhere: other replicas can
 * overshoot a limit by what they see in that time, this one never. Redis slower than `flushMs`:
 * one INCRBY per key is on its way at a time, and what is counted meanwhile goes in the next.
 * Redis down: `undefined` for a key never counted, otherwise the counting goes on here alone.
 */
export function batchedCount(cache: Pick<Cache, 'count'>, flushMs = 50): Count & { flush(): Promise<void> } {
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
