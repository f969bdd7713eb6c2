/**
 * Server-Sent Events read with fetch(), since EventSource cannot send an Authorization header.
 * The parser follows the HTML standard's rules: lines end in CR, LF or CRLF (even split across
 * chunks), `:` starts a comment, `data:` lines are joined with a newline, a blank line dispatches,
 * `id:` is remembered across events and counts once its event is dispatched (the Last-Event-ID to
 * resume from), `retry:` sets the delay.
 */
export type SseEvent = { event: string; data: string; lastEventId: string }

export function sseParser(onEvent: (e: SseEvent) => void, onRetry: (ms: number) => void = () => {}) {
  let pending = ''
  let data: string[] = []
  let event = ''
  let idBuffer = ''
  let lastEventId = '' // the id of the last event dispatched: what a reconnect resumes after
  let skipLf = false

  function line(text: string) {
    if (text === '') {
      lastEventId = idBuffer
      if (data.length) onEvent({ event: event || 'message', data: data.join('\n'), lastEventId })
      data = []
      event = ''
      return
    }
    if (text.startsWith(':')) return
    const colon = text.indexOf(':')
    const field = colon < 0 ? text : text.slice(0, colon)
    const value = colon < 0 ? '' : text.slice(colon + 1).replace(/^ /, '')
    if (field === 'data') data.push(value)
    else if (field === 'event') event = value
    else if (field === 'id' && !value.includes('\0')) idBuffer = value
    else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value))
  }

  return {
    push(chunk: string) {
      // a CR that ended the last chunk may have been the first half of a CRLF
      if (skipLf && chunk.startsWith('\n')) chunk = chunk.slice(1)
      skipLf = chunk.endsWith('\r')
      pending += chunk
      const lines = pending.split(/\r\n|\r|\n/)
      pending = lines.pop()!
      lines.forEach(line)
    },
    /** The stream ended: an event without its blank line is dropped, as the standard says. */
    end() {
      pending = ''
      data = []
      event = ''
    },
    get lastEventId() {
      return lastEventId
    },
  }
}

/** Reads a response body as SSE until it ends (or `signal` aborts); events go to the parser's `onEvent`. */
export async function readEvents(body: ReadableStream<Uint8Array>, parser: ReturnType<typeof sseParser>, signal?: AbortSignal) {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const cancel = () => void reader.cancel().catch(() => {})
  signal?.addEventListener('abort', cancel, { once: true })
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      parser.push(decoder.decode(value, { stream: true }))
    }
  } finally {
    signal?.removeEventListener('abort', cancel)
    parser.end()
  }
}
