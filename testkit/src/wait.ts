/**
 * Polls `probe` until it returns a value that is not undefined/false, or fails with the last
 * error once the deadline passes. What tests use instead of sleeping.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeout = 10_000, interval = 25, what = 'condition' }: { timeout?: number; interval?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeout
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value as T
      last = undefined
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline)
      throw new Error(`${what} not met within ${timeout} ms${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, interval))
  }
}
