/**
 * A constant arrival rate, for real: request i is due at start + i / rate, is sent when due
 * whether or not earlier ones were answered (an open model, like k6's constant-arrival-rate or
 * wrk2), and its latency counts from when it was due, so a server that falls behind is charged
 * for the wait too (no coordinated omission).
 *
 * autocannon's `overallRate` is not this: each connection sends its share of a second as fast as
 * it is answered and then pauses until the next second, so the load arrives as one burst per
 * second and the percentiles measure how that burst queues.
 */
export type OpenLoopOptions = {
  url: string
  method?: string
  headers?: Record<string, string>
  body?: string
  rate: number
  seconds: number
  timeoutMs?: number
}

export type OpenLoopResult = {
  sent: number
  answered: number
  non2xx: number
  errors: number
  timeouts: number
  /** ms from due to answered, of every answered request, sorted */
  latencies: number[]
  seconds: number
}

/**
 * A pool of keep-alive HTTP/1.1 connections on Bun's raw TCP sockets, one request at a time on
 * each, the request bytes built once: a fraction of what `fetch` costs per request, so the
 * generator takes less of the machine it measures. Needs a `Content-Length` on every answer
 * (what both services send).
 */
function connectionPool(url: URL, request: Uint8Array, onAnswer: (status: number, due: number) => void, onError: () => void) {
  type Conn = { write(data: Uint8Array): number; end(): void; due?: number; buf?: Buffer; unsent?: Uint8Array }
  const idle: Conn[] = []
  const queue: number[] = [] // due times of requests waiting for a connection
  const all = new Set<Conn>()
  const HEAD_END = Buffer.from('\r\n\r\n')
  const MAX_CONNECTIONS = 1024 // beyond it, due requests wait for a free connection (and the wait counts)

  const write = (conn: Conn, bytes: Uint8Array) => {
    const written = conn.write(bytes)
    conn.unsent = written < bytes.length ? bytes.subarray(Math.max(0, written)) : undefined // the rest on drain
  }
  const sendOn = (conn: Conn, due: number) => {
    conn.due = due
    write(conn, request)
  }
  const free = (conn: Conn) => {
    const due = queue.shift()
    if (due !== undefined) sendOn(conn, due)
    else idle.push(conn)
  }
  const fail = (conn: Conn) => {
    if (conn.due !== undefined) onError()
    conn.due = undefined
    all.delete(conn)
    const i = idle.indexOf(conn)
    if (i >= 0) idle.splice(i, 1)
    conn.end()
  }
  const open = (due: number) =>
    Bun.connect<Conn>({
      hostname: url.hostname,
      port: Number(url.port),
      socket: {
        open(socket) {
          const conn = socket as unknown as Conn
          all.add(conn)
          sendOn(conn, due)
        },
        data(socket, chunk) {
          const conn = socket as unknown as Conn
          conn.buf = conn.buf ? Buffer.concat([conn.buf, chunk]) : Buffer.from(chunk)
          const headEnd = conn.buf.indexOf(HEAD_END)
          if (headEnd < 0) return
          const head = conn.buf.subarray(0, headEnd).toString('latin1')
          const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)
          if (!length) return fail(conn)
          const end = headEnd + 4 + Number(length[1])
          if (conn.buf.length < end) return
          const status = Number(head.slice(9, 12))
          conn.buf = conn.buf.length > end ? conn.buf.subarray(end) : undefined
          const due = conn.due!
          conn.due = undefined
          onAnswer(status, due)
          free(conn)
        },
        drain(socket) {
          const conn = socket as unknown as Conn
          if (conn.unsent) write(conn, conn.unsent)
        },
        close: (socket) => fail(socket as unknown as Conn),
        error: (socket) => fail(socket as unknown as Conn),
      },
    }).catch(() => onError())

  return {
    send(due: number) {
      const conn = idle.pop()
      if (conn) sendOn(conn, due)
      else if (all.size < MAX_CONNECTIONS) void open(due)
      else queue.push(due)
    },
    close() {
      for (const conn of all) conn.end()
    },
  }
}

export async function openLoop({ url, method = 'GET', headers = {}, body, rate, seconds, timeoutMs = 10_000 }: OpenLoopOptions): Promise<OpenLoopResult> {
  const result: OpenLoopResult = { sent: 0, answered: 0, non2xx: 0, errors: 0, timeouts: 0, latencies: [], seconds }
  const target = new URL(url)
  const bytes = body === undefined ? undefined : Buffer.from(body)
  const head = [
    `${method} ${target.pathname}${target.search} HTTP/1.1`,
    `host: ${target.host}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ...(bytes ? [`content-length: ${bytes.length}`] : []),
    '',
    '',
  ].join('\r\n')
  const request = bytes ? Buffer.concat([Buffer.from(head), bytes]) : Buffer.from(head)
  const pool = connectionPool(
    target,
    request,
    (status, due) => {
      result.answered++
      result.latencies.push(performance.now() - due)
      if (status < 200 || status > 299) result.non2xx++
    },
    () => void result.errors++,
  )

  const total = Math.round(rate * seconds)
  const start = performance.now()
  let next = 0
  while (next < total) {
    const now = performance.now()
    // everything due by now goes out; a late tick sends its backlog at once, still timed from due
    while (next < total && start + (next * 1000) / rate <= now) {
      result.sent++
      pool.send(start + (next++ * 1000) / rate)
    }
    await new Promise((r) => setTimeout(r, 1))
  }
  // what is not answered within `timeoutMs` after the last one was due counts as timed out
  const deadline = performance.now() + timeoutMs
  while (result.answered + result.errors < result.sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  result.timeouts = result.sent - result.answered - result.errors
  pool.close()
  result.seconds = (performance.now() - start) / 1000
  result.latencies.sort((a, b) => a - b)
  return result
}

/** The value below which a fraction `q` of the sorted values lie (nearest rank). */
export const percentile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : 0)
