import type { Bus } from '@shop/kit'
import type { notesEvents } from './manifest.ts'
import type { Store } from './store.ts'

/** notes hears its own note.added: the round trip through the outbox, the relay and RabbitMQ. */
export function consumeNoteEvents({ bus, store, queue }: { bus: Bus<typeof notesEvents>; store: Store; queue: string }) {
  return bus.consume({
    queue,
    async handle({ event }) {
      await store.markHeard(event.noteId)
    },
  })
}
