import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Type as t } from '@sinclair/typebox'
import { Elysia } from 'elysia'
import {
  connectService,
  eventCatalog,
  eventConstructor,
  limitEnv,
  readEnv,
  serviceApp,
  serviceConfig,
  serviceEnv,
  type Access,
  type ServiceManifest,
} from '@shop/kit'
import { bootInProcess, client, eventually, isolate, mintToken, type Isolated, type Running } from '@shop/testkit'

// The kit is generic: a third service, `notes`, made from @shop/kit alone (nothing of product or
// order), with one scope, one rate-limit bucket, one route and one event it publishes and
// consumes itself, against the real PostgreSQL, Redis and RabbitMQ.
const NoteAdded = t.Object(
  { eventId: t.String(), occurredAt: t.String(), version: t.Literal(1), noteId: t.String({ format: 'uuid' }), text: t.String() },
  { description: 'notes sends it when a note was added' },
)
// what it sends and receives, said once: the consumer is bound to it, the documents list it
const events = eventCatalog({ 'note.added': NoteAdded }, { sends: ['note.added'], receives: ['note.added'] })
const manifest = { name: 'notes', scopes: { 'notes:write': 'add notes' }, events } satisfies ServiceManifest
const buckets = { writes: { default: 100, description: 'notes added per caller per window' } }
const Config = t.Object({ ...serviceEnv({ port: 4000, database: 'notes', cachePrefix: 'notes:' }), ...limitEnv(buckets), NOTES_QUEUE: t.String() })
const noteAdded = eventConstructor(events)

let iso: Isolated
let migrations: string
type Notes = { app: { listen(port: number): unknown; server: { port?: number } | null; stop(): Promise<unknown> }; stop(): Promise<void> }
let running: Running<Notes>
const heard: string[] = []

async function startNotes(env: Record<string, string>): Promise<Notes> {
  const c = readEnv(Config, env)
  const config = serviceConfig(c, c.NOTES_QUEUE, buckets)
  const platform = await connectService(manifest, config, pathToFileURL(`${migrations}/`))
  await platform.bus.consume({
    queue: config.queue,
    handle: async ({ event }) => void heard.push(event.noteId),
  })
  const writer: Access<keyof typeof buckets> = { scopes: ['notes:write'], limit: 'writes' }
  const routes = new Elysia({ prefix: '/notes' }).use(platform.access).post(
    '',
    async ({ body, set }) => {
      const id = crypto.randomUUID()
      await platform.outbox.transaction(async (tx, events) => {
        await tx`insert into notes (id, text) values (${id}, ${body.text})`
        events.add(noteAdded('note.added', { noteId: id, text: body.text }))
      })
      set.status = 201
      return { id }
    },
    { body: t.Object({ text: t.String({ minLength: 1 }) }), access: writer, detail: { operationId: 'addNote', tags: ['notes'] } },
  )
  const docs = { title: 'notes', description: 'Notes.', port: 4000, schemas: {}, tags: [{ name: 'notes', description: 'Notes' }] }
  const app = serviceApp({ ...docs, events: { exchange: config.exchange, queue: config.queue } }, platform, routes)
  return { stop: platform.stop, app: app as unknown as Notes['app'] }
}

beforeAll(async () => {
  iso = await isolate('notes')
  migrations = mkdtempSync(join(tmpdir(), 'notes-migrations-'))
  writeFileSync(join(migrations, '001_notes.sql'), 'create table notes (id uuid primary key, text text not null);\n')
  // a spare database of the run (product's, which no product uses here)
  running = await bootInProcess(() => startNotes({ ...iso.env('product'), NOTES_QUEUE: `${iso.id}.notes` }))
})
afterAll(async () => {
  await running?.stop()
  await iso.cleanup()
  rmSync(migrations, { recursive: true, force: true })
})

describe('a third service built from the kit alone', () => {
  it('when a note is added with the scope, then it is stored, its event goes out through the outbox and comes back to the consumer', async () => {
    const api = client(running.url, { token: await mintToken({ sub: 'writer', scope: 'notes:write' }) })
    const added = await api.post<{ id: string }>('/notes', { text: 'hello' })
    expect(added.status).toBe(201)
    await eventually(async () => heard.includes(added.body.id), { what: 'note.added consumed' })
    const refused = await client(running.url, { token: await mintToken({ sub: 'reader', scope: 'things:read' }) }).post('/notes', { text: 'x' })
    expect(refused.status).toBe(403)
    expect(refused.headers.get('content-type')).toContain('application/problem+json')
  })

  it('when its documents and probes are read, then they speak of its own scope, route and event', async () => {
    const api = client(running.url)
    const openapi = (await api.get('/docs/json')).body
    expect(openapi.paths['/notes'].post.security).toEqual([{ bearer: ['notes:write'] }])
    expect(openapi.components.securitySchemes.bearer.description).toContain('`notes:write` (add notes)')
    const asyncapi = (await api.get('/docs/asyncapi.json')).body
    expect(Object.keys(asyncapi.channels)).toEqual(['noteAdded'])
    expect((await api.get('/ready')).body).toMatchObject({ status: 'ready', consumers: { [`${iso.id}.notes`]: 'attached' } })
  })
})
