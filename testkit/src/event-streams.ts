import { operatorToken } from './tokens.ts'
import { eventually } from './wait.ts'

/** One Server-Sent Event as it arrived: its `id:`, `event:` and `data:` (parsed as JSON). */
export type StreamedEvent = { id: string | undefined; event: string; data: any }

/**
 * Reads a Server-Sent Events response as a browser's EventSource would, keeping what arrives:
 * the events, how many comment lines (heartbeats), and whether the server ended the stream.
 * `token`: the bearer token (null: none; by default one with every scope).
 */
export async function openEventStream(url: string, { token, lastEventId }: { token?: string | null; lastEventId?: string } = {}) {
  const bearer = token === undefined ? await operatorToken() : token
  const headers: Record<string, string> = { accept: 'text/event-stream' }
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId
  const abort = new AbortController()
  const response = await fetch(url, { headers, signal: abort.signal })
  const events: StreamedEvent[] = []
  let comments = 0
  let ended = false
  let text = ''

  const take = (block: string) => {
    let id: string | undefined
    let event = 'message'
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments++
      else if (line.startsWith('id: ')) id = line.slice(4)
      else if (line.startsWith('event: ')) event = line.slice(7)
      else if (line.startsWith('data: ')) data.push(line.slice(6))
    }
    if (data.length) events.push({ id, event, data: JSON.parse(data.join('\n')) })
  }

  const streaming = response.headers.get('content-type')?.startsWith('text/event-stream')
  const finished = (async () => {
    if (!streaming) {
      text = await response.text()
      return
    }
    const decoder = new TextDecoder()
    const reader = response.body!.getReader()
    let buffer = ''
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true })
        let at: number
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          take(buffer.slice(0, at))
          buffer = buffer.slice(at + 2)
        }
      }
    } catch {
      return // cancelled by the test
    }
    ended = true
  })()

  return {
    response,
    status: response.status,
    /** the body of an answer that is not a stream (a problem) */
    text: async () => (await finished, text),
    events,
    comments: () => comments,
    /** the server ended the stream (not the test) */
    ended: () => ended,
    /** waits until the server ended the stream */
    finished: (timeout = 10_000) => eventually(async () => ended, { timeout, what: `the stream of ${url} ended` }),
    /** waits until at least `n` events arrived */
    received: (n: number, timeout = 10_000) => eventually(() => events.length >= n && events, { timeout, what: `${n} events from ${url}` }),
    /** the client goes away */
    close: async () => {
      abort.abort()
      await finished
    },
  }
}

export type EventStream = Awaited<ReturnType<typeof openEventStream>>
