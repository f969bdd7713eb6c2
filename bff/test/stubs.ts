/**
 * A stand-in for product or order: it records every request it gets and answers as the test
 * says, so a suite can see exactly what the bff sends on and what it makes of each answer.
 */
export type Seen = { method: string; path: string; headers: Headers; body: string }
type Answer = (seen: Seen, request: Request) => Response | Promise<Response>

export function stubService() {
  const seen: Seen[] = []
  let answer: Answer = () => Response.json({})
  const server = Bun.serve({
    port: 0,
    idleTimeout: 0, // an event stream may pause as long as a test likes
    async fetch(request) {
      const url = new URL(request.url)
      const s = { method: request.method, path: `${url.pathname}${url.search}`, headers: request.headers, body: await request.text() }
      seen.push(s)
      return answer(s, request)
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    seen,
    /** the last request it got */
    last: () => seen.at(-1)!,
    /** how it answers from now on */
    answers(fn: Answer) {
      answer = fn
    },
    stop: () => server.stop(true),
  }
}

export type Stub = ReturnType<typeof stubService>

/** A URL nothing listens on: a service that is away. */
export const nobody = 'http://127.0.0.1:9'
