import type { Outbox, Sql } from '@shop/kit'
import { newEvent } from './manifest.ts'
import type { Note } from './schemas.ts'

/** The only file that knows the table: SQL as tagged templates, the event written with its note. */
export function createStore(sql: Sql, outbox: Outbox) {
  return {
    async add(text: string): Promise<Note> {
      const id = crypto.randomUUID()
      await outbox.transaction(async (tx, events) => {
        await tx`insert into notes (id, text) values (${id}, ${text})`
        events.add(newEvent('note.added', { noteId: id, text }))
      })
      return { id, text, heard: false }
    },
    async get(id: string): Promise<Note | undefined> {
      const [row] = await sql<{ id: string; text: string; heard: boolean }[]>`
        select id, text, heard_at is not null as heard from notes where id = ${id}`
      return row && { id: row.id, text: row.text, heard: row.heard }
    },
    /** Idempotent: a redelivered note.added finds the note heard already and changes nothing. */
    async markHeard(id: string) {
      await sql`update notes set heard_at = now() where id = ${id} and heard_at is null`
    },
  }
}

export type Store = ReturnType<typeof createStore>
