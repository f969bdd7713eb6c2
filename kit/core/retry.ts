/**
 * Errors that say "try again later": a dependency is down, refusing, read-only for a failover,
 * or a transaction lost a race. Everything else is deterministic (a constraint, bad data) and
 * retrying it cannot help.
 */
export function isTransient(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown } | undefined
  const code = String(e?.code ?? e?.errno ?? '')
  return (
    /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|CONNECTION_\w+|CONNECT_TIMEOUT)$/.test(code) ||
    /^(08|53|57P)/.test(code) || // connection, resources (too many connections), shutting down, starting up
    code === '55000' || // object not in prerequisite state: "database ... is not accepting connections"
    code === '55P03' || // lock not available (lock_timeout)
    code === '57014' || // query canceled (statement_timeout)
    code === '25006' || // read-only transaction: a standby, or a primary just demoted
    code === '40001' || // serialization failure
    code === '40P01' // deadlock
  )
}

type Options = {
  /** retry whatever the error (connecting); otherwise only transient errors retry forever */
  retryAll?: boolean
  /** attempts for non-transient errors before giving up */
  attempts?: number
  stop?: () => boolean
  onRetry?: (err: unknown, attempt: number) => void
}

/** Retries with exponential backoff (100 ms doubling to 5 s, with jitter). */
export async function retrying<T>(fn: () => Promise<T>, opts: Options = {}): Promise<T> {
  const attempts = opts.attempts ?? 3
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      const again = opts.retryAll || isTransient(err) || attempt < attempts
      if (!again || opts.stop?.()) throw err
      opts.onRetry?.(err, attempt)
      const delay = Math.min(5000, 100 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2)
      // the wait ends early when `stop` turns true (a shutdown must not sit out a 5 s backoff)
      const until = performance.now() + delay
      while (performance.now() < until && !opts.stop?.()) await new Promise((r) => setTimeout(r, Math.max(0, Math.min(100, until - performance.now()))))
      if (opts.stop?.()) throw err
    }
  }
}

/** `p`, or an error with `message` when it has not settled within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}
