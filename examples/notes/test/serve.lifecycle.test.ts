import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { fileURLToPath } from 'node:url'
import { client, eventually, freePort, isolate, mintToken, type Isolated } from '@shop/testkit'

// The example as a newcomer runs it, `bun examples/notes/src/main.ts`, in its own process against
// the real PostgreSQL, Redis and RabbitMQ, on a private slice of them (a spare database, key
// prefix, exchange and queue of the run, all removed by cleanup).
const root = fileURLToPath(new URL('../../../', import.meta.url))
let iso: Isolated
let notes: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
let url: string
let output = ''

const keep = async (stream: ReadableStream<Uint8Array>) => {
  const reader = stream.getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read()) output = (output + new TextDecoder().decode(r.value)).slice(-20_000)
}

beforeAll(async () => {
  iso = await isolate('notes')
  const port = await freePort()
  url = `http://127.0.0.1:${port}`
  // product's database and queue of the run, which no product uses here
  const env = { ...iso.env('product'), NOTES_QUEUE: iso.queues.product, PORT: String(port) }
  notes = Bun.spawn([process.execPath, 'examples/notes/src/main.ts'], { cwd: root, env: { ...process.env, ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  void keep(notes.stdout)
  void keep(notes.stderr)
  const ready = async () => notes.exitCode === null && (await fetch(`${url}/ready`).catch(() => undefined))?.status === 200
  await eventually(ready, { timeout: 20_000, what: 'notes ready' }).catch((err) => {
    throw new Error(`${String(err)}\n--- notes output ---\n${output}`)
  })
}, 30_000)

afterAll(async () => {
  if (notes.exitCode === null) notes.kill('SIGKILL')
  await notes.exited
  await iso?.cleanup()
})

describe('the notes example, run as a process', () => {
  it('when a note is added with the notes:write scope, then it answers 201 and hears its own note.added through the outbox and RabbitMQ', async () => {
    const writer = client(url, { token: await mintToken({ sub: 'writer', scope: 'notes:write' }) })
    const added = await writer.post<{ id: string; heard: boolean }>('/notes', { text: 'hello' })
    expect(added.status).toBe(201)
    expect(added.headers.get('location')).toBe(`/notes/${added.body.id}`)
    const heard = await eventually(async () => {
      const read = await writer.get<{ id: string; text: string; heard: boolean }>(`/notes/${added.body.id}`)
      return read.body.heard && read
    }, { what: 'note.added heard' })
    expect(heard.body).toEqual({ id: added.body.id, text: 'hello', heard: true })
  })

  it('when a token without the scope adds a note, then it answers 403 as a problem', async () => {
    const reader = client(url, { token: await mintToken({ sub: 'reader', scope: 'things:read' }) })
    const refused = await reader.post('/notes', { text: 'x' })
    expect(refused.status).toBe(403)
    expect(refused.headers.get('content-type')).toContain('application/problem+json')
    expect((await reader.get(`/notes/${crypto.randomUUID()}`)).status).toBe(404)
  })

  it('when its documents and probes are read, then they speak of its own scope, routes, event and queue', async () => {
    const api = client(url)
    const openapi = (await api.get('/docs/json')).body
    expect(openapi.paths['/notes'].post.security).toEqual([{ bearer: ['notes:write'] }])
    expect(openapi.paths['/notes/{id}'].get.operationId).toBe('getNote')
    const asyncapi = (await api.get('/docs/asyncapi.json')).body
    expect(Object.keys(asyncapi.channels)).toEqual(['noteAdded'])
    expect((await api.get('/ready')).body).toMatchObject({ status: 'ready', consumers: { [iso.queues.product]: 'attached' } })
  })

  it('when it gets SIGTERM, then it stops by itself and exits 0', async () => {
    notes.kill('SIGTERM')
    expect(await notes.exited).toBe(0)
  })
})
