import { eventCatalog, eventConstructor, type ServiceManifest } from '@shop/kit'
import { Events } from './schemas.ts'

/** What notes sends and receives, said once: the bus binds its queue to it, the AsyncAPI document lists it. */
export const notesEvents = eventCatalog(Events, { sends: ['note.added'], receives: ['note.added'] })

/** What notes tells the kit about itself: its name, the scopes its tokens speak, its events. */
export const manifest = { name: 'notes', scopes: { 'notes:write': 'add notes' }, events: notesEvents } satisfies ServiceManifest

/** A new event notes sends, its body checked against the schema at compile time. */
export const newEvent = eventConstructor(notesEvents)
