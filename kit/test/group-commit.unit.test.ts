import { describe, expect, it } from 'bun:test'
import { grouped } from '@shop/kit'

/** A fake statement: records each run's inputs and answers once `release()` is called. */
function fakeStatement(fails: (n: number) => boolean = () => false) {
  const runs: number[][] = []
  const pending: (() => void)[] = []
  const run = (inputs: number[]) => {
    runs.push(inputs)
    return new Promise<string[]>((resolve, reject) =>
      pending.push(() => (inputs.some(fails) ? reject(new Error('refused')) : resolve(inputs.map((n) => `row ${n}`)))),
    )
  }
  const release = async () => {
    while (pending.length) pending.shift()!()
    await Bun.sleep(0) // let the settled runs hand over to the next ones
  }
  return { runs, run, release }
}

describe('grouped (group commit)', () => {
  it('when idle, then a call runs at once and alone', async () => {
    const s = fakeStatement()
    const insert = grouped(s.run, { inFlight: 1 })
    const one = insert(1)
    expect(s.runs).toEqual([[1]])
    await s.release()
    expect(await one).toBe('row 1')
  })

  it('when calls arrive while a run is busy, then they go together in the next run, each answered with its own result', async () => {
    const s = fakeStatement()
    const insert = grouped(s.run, { inFlight: 1 })
    const calls = [1, 2, 3, 4].map((n) => insert(n))
    expect(s.runs).toEqual([[1]])
    await s.release()
    expect(s.runs).toEqual([[1], [2, 3, 4]])
    await s.release()
    expect(await Promise.all(calls)).toEqual(['row 1', 'row 2', 'row 3', 'row 4'])
  })

  it('when a group holds more than maxBatch calls, then it is split', async () => {
    const s = fakeStatement()
    const insert = grouped(s.run, { inFlight: 1, maxBatch: 2 })
    const calls = [1, 2, 3, 4, 5].map((n) => insert(n))
    for (let i = 0; i < 4; i++) await s.release()
    expect(s.runs).toEqual([[1], [2, 3], [4, 5]])
    expect(await Promise.all(calls)).toHaveLength(5)
  })

  it('when one input makes its group fail, then only its caller gets the error and the others are stored', async () => {
    const s = fakeStatement((n) => n === 3)
    const insert = grouped(s.run, { inFlight: 1 })
    const calls = [1, 2, 3, 4].map((n) => insert(n).catch((err: Error) => err.message))
    for (let i = 0; i < 4; i++) await s.release()
    expect(await Promise.all(calls)).toEqual(['row 1', 'row 2', 'refused', 'row 4'])
    expect(s.runs).toContainEqual([2, 3, 4]) // tried together first, then one by one
    expect(s.runs).toContainEqual([3])
  })
})
