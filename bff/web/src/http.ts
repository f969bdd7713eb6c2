/**
 * Every call the page makes, to its own origin (the bff forwards `/products…` to product and
 * `/orders…` to order). An answer is a value, never an exception: the body, or the problem
 * (RFC 9457 `application/problem+json`: `title`, `detail`) with the `Retry-After` a 503 or 429
 * gives. Each answer also tells whether the service behind the path answered, for the banner.
 */
import type { Problem } from '@shop/contracts'
import { tokenOf, type Role } from './tokens.ts'

export type Service = 'shop' | 'product' | 'order'
export type Success<T> = { ok: true; status: number; body: T; headers: Headers }
export type Failure = { ok: false; status: number; problem: Problem; retryAfter: number | undefined }
export type Answer<T> = Success<T> | Failure

/** Which service answers a path; `shop` is the bff itself. */
export const serviceOf = (path: string): Service => (path.startsWith('/products') ? 'product' : path.startsWith('/orders') ? 'order' : 'shop')

/** No answer, or the bff's word that the service behind it did not answer. */
export const isAway = (status: number) => status === 0 || status === 502 || status === 503 || status === 504

type Reachability = (service: Service, answered: boolean) => void
const listeners: Reachability[] = []
/** Called after every call with whether the service behind it answered. */
export const onReachability = (listener: Reachability) => void listeners.push(listener)
const report = (service: Service, answered: boolean) => listeners.forEach((l) => l(service, answered))

/** Seconds from a Retry-After header: a number of seconds or an HTTP date. */
export function retryAfterOf(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined
  if (/^\d+$/.test(header.trim())) return Number(header.trim())
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000))
}

const failure = (status: number, title: string, detail?: string, retryAfter?: number): Failure => ({
  ok: false,
  status,
  problem: { type: 'about:blank', title, status: status || 503, ...(detail ? { detail } : {}) },
  retryAfter,
})

async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text().catch(() => '')
  try {
    const body = JSON.parse(text) as Partial<Problem>
    if (typeof body.title === 'string') return { ...body, type: body.type ?? 'about:blank', title: body.title, status: res.status }
  } catch {
    // not JSON: a proxy's page, say
  }
  return { type: 'about:blank', title: res.statusText || `The shop answered ${res.status}`, status: res.status }
}

export type CallOptions = { as?: Role; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal }

/**
 * A request to the page's origin with the role's bearer token: the response, or the failure to
 * get one. What `call` and the event stream both stand on; it tells who answered.
 */
export async function open(method: string, path: string, { as, body, headers = {}, signal }: CallOptions = {}): Promise<Response | Failure> {
  const token = as && tokenOf(as)
  if (as && !token) return failure(401, `No ${as} token`, `Paste a ${as} token under Tokens (top right) first.`)
  const sent = new Headers({ accept: 'application/json, application/problem+json', ...headers })
  if (token) sent.set('authorization', `Bearer ${token}`)
  if (body !== undefined) sent.set('content-type', 'application/json')
  let res: Response
  try {
    res = await fetch(path, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' })
  } catch (err) {
    if (signal?.aborted) throw err
    report('shop', false)
    return failure(0, 'The shop is not answering', 'The connection failed; the page keeps trying.')
  }
  report('shop', true)
  report(serviceOf(path), !isAway(res.status))
  return res
}

/** A response that is not 2xx, as a failure with its problem. */
export const failureOf = async (res: Response): Promise<Failure> => ({
  ok: false,
  status: res.status,
  problem: await problemOf(res),
  retryAfter: retryAfterOf(res.headers.get('retry-after')),
})

/** One call, its JSON answer parsed: never throws, except when `signal` aborted it. */
export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<Answer<T>> {
  const res = await open(method, path, options)
  if (!(res instanceof Response)) return res
  if (!res.ok) return failureOf(res)
  const text = await res.text().catch(() => '')
  try {
    return { ok: true, status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers }
  } catch {
    return failure(502, 'The shop answered something unreadable', `${method} ${path} did not answer JSON.`)
  }
}

/**
 * How a failed call may be repeated. `safe`: repeating it cannot do it twice (a read, an order
 * with its Idempotency-Key, a write with If-Match, a cancel), so any failure to get an answer is
 * retried. `unsafe` (a new product, a relative stock change): only a 503 or 429, whose meaning is
 * "nothing was done, come back after Retry-After"; a connection lost mid-call is left to the person.
 */
export type Repeat = 'safe' | 'unsafe'
const retryable = (f: Failure, repeat: Repeat) => f.status === 503 || f.status === 429 || (repeat === 'safe' && isAway(f.status))

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
  })

/**
 * Calls until an answer comes that is not "come back later", at most `attempts` times, waiting
 * what Retry-After says (else 1, 2, 4… s, at most 10). `onWait` tells the page when the next try is.
 */
export async function persist<T>(
  attempt: () => Promise<Answer<T>>,
  { repeat, onWait, attempts = 8, signal }: { repeat: Repeat; onWait?: (seconds: number, why: Failure) => void; attempts?: number; signal?: AbortSignal },
): Promise<Answer<T>> {
  for (let i = 1; ; i++) {
    const answer = await attempt()
    if (answer.ok || i >= attempts || !retryable(answer, repeat) || signal?.aborted) return answer
    const seconds = answer.retryAfter ?? Math.min(2 ** (i - 1), 10)
    onWait?.(seconds, answer)
    await sleep(seconds * 1000, signal)
  }
}

/** What a person reads of a problem: its title, its detail, and for a request not valid the fields at fault. */
export function problemText({ problem }: Failure): string {
  const fields = problem.status === 400 || problem.status === 422 ? problem.errors?.map((e) => `${e.field} ${e.message}`).join('; ') : undefined
  return [problem.title, problem.detail, fields].filter(Boolean).join(' — ')
}

const hex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('')

/**
 * A W3C `traceparent` that makes one press of a button the root of its trace: the bff and the
 * services continue it (or carry it as it came when they do not trace), and order records its
 * trace id on the order, so the trace id the page shows is the one to look up in the traces.
 */
export const newTraceparent = () => `00-${hex(16)}-${hex(8)}-01`

/** A key for one press of a button: a UUID (v4), also where `crypto.randomUUID` is not offered (plain http on a LAN name). */
export function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6]! & 0x0f) | 0x40
  b[8] = (b[8]! & 0x3f) | 0x80
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
