import type { Cache } from './cache.ts'

type Count = (key: string, windowSeconds: number) => Promise<number | undefined>

/**
 * A counter shared through Redis that does not cost a round trip per request. The first count of
 * a key in this process asks Redis (exact); later ones are counted here and sent as one INCRBY
 * per key every `flushMs`, and each answer brings back what all replicas counted. So a replica
 * knows the shared count up to its own last `flushMs` of traffic elsewhere: other replicas can
 * overshoot a limit by what they see in that time, this one never. Redis down: `undefined` for a
 * key never counted, otherwise the counting goes on here alone.
 */
export function batchedCount(cache: Pick<Cache, 'count'>, flushMs = 50): Count & { flush(): Promise<void> } {
  type State = { known: number; pending: number; window: number; ends: number }
  const states = new Map<string, State>()
  let timer: ReturnType<typeof setTimeout> | undefined

  async function flush() {
    clearTimeout(timer)
    timer = undefined
    const now = Date.now()
    await Promise.all(
      [...states].map(async ([key, s]) => {
        if (s.ends <= now) return void states.delete(key) // its window is over
        const sending = s.pending
        if (!sending) return
        const total = await cache.count(key, s.window, sending)
        if (total === undefined) return // kept, sent with the next flush
        s.pending -= sending
        s.known = Math.max(s.known, total)
      }),
    )
  }

  const count: Count = async (key, windowSeconds) => {
    const state = states.get(key)
    if (state) {
      state.pending++
      timer ??= setTimeout(() => void flush(), flushMs)
      return state.known + state.pending
    }
    const total = await cache.count(key, windowSeconds)
    if (total === undefined) return undefined
    const again = states.get(key) // another request of the same key may have got here first
    if (again) {
      again.known = Math.max(again.known, total)
      return again.known + again.pending
    }
    states.set(key, { known: total, pending: 0, window: windowSeconds, ends: Date.now() + windowSeconds * 1000 })
    return total
  }
  return Object.assign(count, { flush })
}
