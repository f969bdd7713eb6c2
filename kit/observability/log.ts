/**
 * Log lines as one JSON object each, with the trace of the request or message they belong to.
 */
import { activeTraceIds } from './tracing.ts'

/** One JSON object per line on stdout/stderr: easy to grep here, easy to ship in production. */
export type Log = {
  /** what happened to each message and batch: off unless LOG_LEVEL=debug */
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

const levels = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 } as const
export type LogLevel = keyof typeof levels

export function createLog(service: string, level: LogLevel = 'info'): Log {
  const write = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (levels[lvl] < levels[level]) return
    // the trace and span of the request or message being handled, when traces are on
    const line = JSON.stringify({ t: new Date().toISOString(), level: lvl, service, msg, ...activeTraceIds(), ...fields }, errorFields)
    if (lvl === 'error' || lvl === 'warn') console.error(line)
    else console.log(line)
  }
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  }
}

function errorFields(_key: string, value: unknown) {
  return value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value
}

/**
 * A warning that repeats for as long as a fault lasts (a handler retrying through a database
 * outage, a broker that stays away): the first one is written, then at most one per `everyMs`
 * for each key, carrying how many were held back meanwhile. Keys are few and fixed (a queue, a
 * role), so the map stays small.
 */
export function throttled(write: (msg: string, fields?: Record<string, unknown>) => void, everyMs = 30_000) {
  const last = new Map<string, { at: number; held: number }>()
  return (key: string, msg: string, fields: Record<string, unknown> = {}) => {
    const now = Date.now()
    const seen = last.get(key)
    if (seen && now - seen.at < everyMs) {
      seen.held++
      return
    }
    last.set(key, { at: now, held: 0 })
    write(msg, seen?.held ? { ...fields, heldBack: seen.held } : fields)
  }
}
