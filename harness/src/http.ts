export type Reply<T = any> = { status: number; headers: Headers; body: T; text: string }

type Options = { body?: unknown; raw?: string; headers?: Record<string, string> }

/** fetch with JSON in and out; `raw` sends a body exactly as given (for malformed input). */
export async function call<T = any>(base: string, method: string, path: string, opts: Options = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...opts.headers }
  let body: string | undefined
  if (opts.raw !== undefined) body = opts.raw
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await fetch(base + path, { method, headers, body })
  const text = await res.text()
  let parsed: unknown = undefined
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed as T, text }
}

/** An HTTP client bound to one service's base URL. */
export const client = (base: string) => ({
  base,
  get: <T = any>(path: string, headers?: Record<string, string>) => call<T>(base, 'GET', path, { headers }),
  post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>(base, 'POST', path, { body, headers }),
  patch: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>(base, 'PATCH', path, { body, headers }),
  delete: <T = any>(path: string, headers?: Record<string, string>) => call<T>(base, 'DELETE', path, { headers }),
  send: <T = any>(method: string, path: string, opts: Options) => call<T>(base, method, path, opts),
})

export type Client = ReturnType<typeof client>
