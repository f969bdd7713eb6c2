import { describe, expect, it } from 'bun:test'
import { sharedPerKey } from '@shop/kit'

/** A fake remote call: records each call's key and answers (or fails) when told to. */
function fakeCall() {
  const calls: string[] = []
  const pending: { key: string; settle: (fail?: Error) => void }[] = []
  const call = (key: string) => {
    calls.push(key)
    return new Promise<string>((resolve, reject) =>
      pending.push({ key, settle: (fail) => (fail ? reject(fail) : resolve(`${key}#${calls.length}`)) }),
    )
  }
  /** settles the oldest call still open, then lets its callers and the next call go on */
  const answer = async (fail?: Error) => {
    pending.shift()!.settle(fail)
    for (let i = 0; i < 5; i++) await Promise.resolve()
  }
  return { calls, call, answer, open: () => pending.map((p) => p.key) }
}

describe('sharedPerKey (one call per key and round trip)', () => {
  it('when idle, then a caller gets a call of its own at once', async () => {
    const f = fakeCall()
    const get = sharedPerKey((key: string, _: undefined) => f.call(key))
    const one = get('a', undefined)
    expect(f.calls).toEqual(['a'])
    await f.answer()
    expect(await one).toBe('a#1')
  })

  it('when callers arrive while a call is on its way, then they share the next call, sent after they asked', async () => {
    const f = fakeCall()
    const get = sharedPerKey((key: string, _: undefined) => f.call(key))
    const first = get('a', undefined)
    const later = [get('a', undefined), get('a', undefined), get('a', undefined)]
    expect(f.calls).toEqual(['a']) // nobody joins a call sent before they asked
    await f.answer()
    expect(await first).toBe('a#1')
    expect(f.calls).toEqual(['a', 'a'])
    await f.answer()
    expect(await Promise.all(later)).toEqual(['a#2', 'a#2', 'a#2'])
  })

  it('when a call is shared, then it is made with what its first caller passed', async () => {
    const seen: string[] = []
    const get = sharedPerKey(async (key: string, requestId: string) => (seen.push(requestId), key))
    await Promise.all([get('a', 'r1'), get('a', 'r2')])
    await Promise.all([get('a', 'r3'), get('a', 'r4'), get('a', 'r5')])
    expect(seen).toEqual(['r1', 'r2', 'r3', 'r4'])
  })

  it('when keys differ, then their calls do not wait for each other', async () => {
    const f = fakeCall()
    const get = sharedPerKey((key: string, _: undefined) => f.call(key))
    const a = get('a', undefined)
    const b = get('b', undefined)
    expect(f.open()).toEqual(['a', 'b'])
    await f.answer()
    await f.answer()
    expect([await a, await b]).toEqual(['a#2', 'b#2'])
  })

  it('when a shared call fails, then every caller of it gets the error and the next caller a new call', async () => {
    const f = fakeCall()
    const get = sharedPerKey((key: string, _: undefined) => f.call(key))
    get('a', undefined).catch(() => {})
    const joined = [get('a', undefined), get('a', undefined)].map((p) => p.then(() => 'ok', (e: Error) => e.message))
    await f.answer()
    await f.answer(new Error('down'))
    expect(await Promise.all(joined)).toEqual(['down', 'down'])
    const again = get('a', undefined)
    expect(f.calls).toEqual(['a', 'a', 'a'])
    await f.answer()
    expect(await again).toBe('a#3')
  })
})
