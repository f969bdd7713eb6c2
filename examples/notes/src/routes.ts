import { Elysia } from 'elysia'
import { notFound, type Access, type AppPlatform } from '@shop/kit'
import type { Bucket } from './config.ts'
import { AddNote, IdParams, Note } from './schemas.ts'
import type { Store } from './store.ts'

const tags = ['notes']
const anyone: Access<Bucket> = { limit: 'reads' }
const writer: Access<Bucket> = { scopes: ['notes:write'], limit: 'writes' }

/** HTTP only: each route says who may call it (`access`) and its name in the document (`operationId`). */
export const notesRoutes = (store: Store, guard: AppPlatform<Bucket>['access']) =>
  new Elysia({ prefix: '/notes' })
    .use(guard)
    .post(
      '',
      async ({ body, set }) => {
        const note = await store.add(body.text)
        set.status = 201
        set.headers.location = `/notes/${note.id}`
        return note
      },
      { access: writer, body: AddNote, response: { 201: Note }, detail: { operationId: 'addNote', tags, summary: 'Add a note' } },
    )
    .get(
      '/:id',
      async ({ params }) => {
        const note = await store.get(params.id)
        if (!note) throw notFound(`note ${params.id}`)
        return note
      },
      { access: anyone, params: IdParams, response: { 200: Note }, detail: { operationId: 'getNote', tags, summary: 'Get a note' } },
    )
