/**
 * Group commit: calls that arrive while `inFlight` runs are busy wait and then go together as
 * one run (one statement, one round trip, one commit). Idle, a call runs at once, alone, so
 * batching costs no latency; under load batches grow by themselves.
 *
 * A failed run of several is tried again one call at a time, so one bad input fails only its
 * own caller.
 */
export function grouped<I, O>(run: (inputs: I[]) => Promise<O[]>, { inFlight = 2, maxBatch = 200 } = {}) {
  type Call = { input: I; resolve: (out: O) => void; reject: (err: unknown) => void }
  let waiting: Call[] = []
  let running = 0

  async function runGroup(group: Call[]) {
    try {
      const outs = await run(group.map((c) => c.input))
      group.forEach((c, i) => c.resolve(outs[i]!))
    } catch (err) {
      if (group.length === 1) return group[0]!.reject(err)
      await Promise.all(group.map((c) => runGroup([c])))
    }
  }

  function next() {
    while (running < inFlight && waiting.length) {
      const group = waiting.slice(0, maxBatch)
      waiting = waiting.slice(maxBatch)
      running++
      void runGroup(group).finally(() => {
        running--
        next()
      })
    }
  }

  return (input: I): Promise<O> =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ input, resolve, reject })
      next()
    })
}

/**
 * One call per key at a time, shared by everyone who asked for that key before it was sent:
 * callers arriving while a call for their key is on its way wait for the next one, which starts
 * when that call ends. So every caller gets an answer produced after it asked (as fresh as a call
 * of its own), and a burst for one key costs one call per round trip instead of one per caller.
 * The outcome, success or error, is everyone's; the call gets the `arg` of the first of them (a
 * request id, a trace parent). Idle keys leave nothing behind.
 */
export function sharedPerKey<K, O, A = undefined>(call: (key: K, arg: A) => Promise<O>) {
  type Waiter = { arg: A; resolve: (out: O) => void; reject: (err: unknown) => void }
  const keys = new Map<K, { running: boolean; waiting: Waiter[] }>()

  function start(key: K) {
    const state = keys.get(key)!
    const group = state.waiting
    state.waiting = []
    state.running = true
    call(key, group[0]!.arg).then(
      (out) => group.forEach((w) => w.resolve(out)),
      (err) => group.forEach((w) => w.reject(err)),
    ).finally(() => {
      state.running = false
      if (state.waiting.length) start(key)
      else keys.delete(key)
    })
  }

  return (key: K, arg: A): Promise<O> =>
    new Promise<O>((resolve, reject) => {
      let state = keys.get(key)
      if (!state) keys.set(key, (state = { running: false, waiting: [] }))
      state.waiting.push({ arg, resolve, reject })
      if (!state.running) start(key)
    })
}
