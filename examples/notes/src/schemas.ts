import { Type as t, type Static } from '@sinclair/typebox'

// A service of the shop keeps these in contracts/; the example has no contracts of its own, so
// it keeps them here, beside the routes and the manifest that use them.

export const AddNote = t.Object({ text: t.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false })

export const Note = t.Object({
  id: t.String({ format: 'uuid' }),
  text: t.String(),
  heard: t.Boolean({ description: 'true once the note.added of this note came back to the service' }),
})

export const IdParams = t.Object({ id: t.String({ format: 'uuid' }) })

export const NoteAdded = t.Object(
  { eventId: t.String(), occurredAt: t.String(), version: t.Literal(1), noteId: t.String({ format: 'uuid' }), text: t.String() },
  { description: 'notes sends it when a note was added' },
)

/** Routing key -> payload schema: the events of this service. */
export const Events = { 'note.added': NoteAdded }

export type Note = Static<typeof Note>
