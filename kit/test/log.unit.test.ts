import { describe, expect, it, spyOn } from 'bun:test'
import { createLog, throttled } from '../observability/log.ts'

describe('log lines', () => {
  it('when a field holds control characters (newline, NUL, ESC), then the line stays one line and carries none of them raw', () => {
    const out = spyOn(console, 'log').mockImplementation(() => {})
    try {
      createLog('t', 'info').info('request', { requestId: 'a\nb\u0000c\u001b[31m', path: '/x\r\n{"level":"error"}' })
      const line = out.mock.calls[0]![0] as string
      expect(line).not.toMatch(/[\u0000-\u001f\u007f]/)
      expect(JSON.parse(line)).toMatchObject({ requestId: 'a\nb\u0000c\u001b[31m', level: 'info' })
    } finally {
      out.mockRestore()
    }
  })

  it('when LOG_LEVEL is debug, then debug lines are written; at info, they are not', () => {
    const out = spyOn(console, 'log').mockImplementation(() => {})
    try {
      createLog('t', 'info').debug('message handled', { queue: 'q' })
      expect(out).not.toHaveBeenCalled()
      createLog('t', 'debug').debug('message handled', { queue: 'q' })
      expect(JSON.parse(out.mock.calls[0]![0] as string)).toMatchObject({ level: 'debug', msg: 'message handled', queue: 'q' })
    } finally {
      out.mockRestore()
    }
  })

  it('when a warning repeats within its interval, then it is written once, and next time with how many were held back', () => {
    const lines: Record<string, unknown>[] = []
    const warn = throttled((msg, fields) => lines.push({ msg, ...fields }), 60_000)
    for (let i = 0; i < 5; i++) warn('q', 'handler failed; retrying', { attempt: i })
    warn('other', 'handler failed; retrying', {})
    expect(lines).toEqual([{ msg: 'handler failed; retrying', attempt: 0 }, { msg: 'handler failed; retrying' }])
  })
})
