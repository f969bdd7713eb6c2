import http from 'node:http'
import { operatorToken } from './tokens.ts'

export type Reply<T = any> = { status: number; headers: Headers; body: T; text: string }

type Options = { body?: unknown; raw?: string; headers?: Record<string, string> }
/** `token`: the bearer token to send; null sends none; by default a token with every scope. */
export type ClientOptions = { token?: string | null }

/** fetch with JSON in and out; `raw` sends a body exactly as given (for malformed input). */
export async function call<T = any>({
  base,
  method,
  path,
  body,
  raw,
  headers,
  token,
}: { base: string; method: string; path: string } & Options & ClientOptions): Promise<Reply<T>> {
  const sent: Record<string, string> = { ...headers }
  const bearer = token === undefined ? await operatorToken() : token
  if (bearer !== null && !Object.keys(sent).some((h) => h.toLowerCase() === 'authorization')) sent.authorization = `Bearer ${bearer}`
  let content: string | undefined
  if (raw !== undefined) content = raw
  else if (body !== undefined) {
    content = JSON.stringify(body)
    sent['content-type'] ??= 'application/json'
  }
  const res = await fetch(base + path, { method, headers: sent, body: content })
  const text = await res.text()
  let parsed: unknown = undefined
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed as T, text }
}

/** An HTTP client bound to one service's base URL. */
export const client = (base: string, { token }: ClientOptions = {}) => ({
  base,
  get: <T = any>(path: string, headers?: Record<string, string>) => call<T>({ base, method: 'GET', path, headers, token }),
  post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>({ base, method: 'POST', path, body, headers, token }),
  patch: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>({ base, method: 'PATCH', path, body, headers, token }),
  delete: <T = any>(path: string, headers?: Record<string, string>) => call<T>({ base, method: 'DELETE', path, headers, token }),
  send: <T = any>(method: string, path: string, opts: Options) => call<T>({ token, ...opts, base, method, path }),
  /** the same client with another token (null: none) */
  as: (other: string | null) => client(base, { token: other }),
})

export type Client = ReturnType<typeof client>

/**
 * Requests sent from a chosen loopback address (127.0.0.2, 127.0.0.3, ...: Linux answers the
 * whole 127/8), so a suite can be several clients, or a proxy and a client, on one machine.
 * node:http, because fetch cannot choose its source address.
 */
export function fromAddress(localAddress: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
  const send = (url: string, opts: { method?: string; headers?: Record<string, string> } = {}) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
      const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, localAddress, agent }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }))
      })
      req.on('error', reject)
      req.end()
    })
  return { address: localAddress, send, close: () => agent.destroy() }
}
