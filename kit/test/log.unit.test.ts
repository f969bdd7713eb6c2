import { describe, expect, it, spyOn } from 'bun:test'
import { createLog } from '../log.ts'

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
})
