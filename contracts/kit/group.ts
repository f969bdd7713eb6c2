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
