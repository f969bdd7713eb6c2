import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { productWorld, type ProductWorld } from './env.ts'

let w: ProductWorld
beforeAll(async () => (w = await productWorld()))
afterAll(() => w.stop())

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe('request ids a caller chooses', () => {
  it.each([
    ['5,000 characters', 'x'.repeat(5000)],
    ['spaces and markup', 'a b <script>alert(1)</script>'],
    ['quotes and a semicolon', `"; drop table products; --`],
    ['non-ASCII', 'café-☕'],
  ])('when x-request-id holds %s, then it is not echoed: the service makes its own id', async (_, id) => {
    for (const header of ['x-request-id', 'x-correlation-id']) {
      const res = await w.api.get('/health', { [header]: /[^\x20-\x7e]/.test(id) ? encodeURIComponent(id) : id })
      expect(res.headers.get('x-request-id')).toMatch(UUID)
      expect(res.headers.get('x-correlation-id')).toBe(res.headers.get('x-request-id'))
    }
  })

  it('when the id is plain (letters, digits, . _ : -) and at most 128 long, then it is kept', async () => {
    const id = `trace-1.2_3:${'a'.repeat(100)}`
    expect((await w.api.get('/health', { 'x-request-id': id })).headers.get('x-request-id')).toBe(id)
    expect((await w.api.get('/health', { 'x-correlation-id': 'seed-42' })).headers.get('x-request-id')).toBe('seed-42')
  })
})
