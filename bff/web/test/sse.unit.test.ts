import { describe, expect, it } from 'bun:test'
import { sseParser, readEvents, type SseEvent } from '../src/sse.ts'

const parse = (...chunks: string[]) => {
  const events: SseEvent[] = []
  const retries: number[] = []
  const parser = sseParser((e) => events.push(e), (ms) => retries.push(ms))
  chunks.forEach((c) => parser.push(c))
  parser.end()
  return { events, retries, lastEventId: parser.lastEventId }
}

describe('the event stream parser', () => {
  it('when a stream sends id, event and data lines, then each blank line dispatches one event with them', () => {
    const { events } = parse('id: 1\nevent: accepted\ndata: {"seq":1}\n\nid: 2\nevent: confirmed\ndata: {"seq":2}\n\n')
    expect(events).toEqual([
      { event: 'accepted', data: '{"seq":1}', lastEventId: '1' },
      { event: 'confirmed', data: '{"seq":2}', lastEventId: '2' },
    ])
  })

  it('when lines are split across chunks, CRLF and lone CR included, then the events are the same', () => {
    const whole = parse('id: 7\r\nevent: step\r\ndata: a\r\ndata: b\r\n\r\n').events
    expect(whole).toEqual([{ event: 'step', data: 'a\nb', lastEventId: '7' }])
    expect(parse('id: 7\r', '\nevent: st', 'ep\r\ndata: a\r', '\ndata: b\r\n\r', '\n').events).toEqual(whole)
    expect(parse('id: 7\revent: step\rdata: a\rdata: b\r\r').events).toEqual(whole)
  })

  it('when comments, unknown fields, an empty data and a retry come, then comments are skipped, retry reported, no name means message', () => {
    const { events, retries } = parse(': keep-alive\n\nretry: 2500\nfoo: bar\ndata\n\ndata:x\n\n')
    expect(events).toEqual([
      { event: 'message', data: '', lastEventId: '' },
      { event: 'message', data: 'x', lastEventId: '' },
    ])
    expect(retries).toEqual([2500])
  })

  it('when the stream ends inside an event, then that event is dropped and the last id is the last dispatched one', () => {
    const { events, lastEventId } = parse('id: 3\ndata: done\n\nid: 4\ndata: half')
    expect(events.map((e) => e.lastEventId)).toEqual(['3'])
    expect(lastEventId).toBe('3')
  })

  it('when a body arrives as bytes with a character split between chunks, then it is decoded whole', async () => {
    const bytes = new TextEncoder().encode('data: caf\u00e9\n\n')
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, 9)) // "data: caf" + the first byte of é
        c.enqueue(bytes.slice(9))
        c.close()
      },
    })
    const events: SseEvent[] = []
    await readEvents(body, sseParser((e) => events.push(e)))
    expect(events.map((e) => e.data)).toEqual(['caf\u00e9'])
  })
})
