import { connectService } from '@shop/kit'
import { createApp } from './app.ts'
import type { NotesConfig } from './config.ts'
import { consumeNoteEvents } from './events.ts'
import { manifest } from './manifest.ts'
import { createStore } from './store.ts'

/**
 * Connects, migrates, starts the consumer and the outbox relay, and returns the app ready to be
 * served (by main.ts, or by a test in its own process).
 */
export async function startNotes(config: NotesConfig) {
  const platform = await connectService(manifest, config, new URL('../migrations/', import.meta.url))
  const store = createStore(platform.sql, platform.outbox)
  // the handler writes through the pool kept for messages
  const storeForEvents = createStore(platform.eventsSql, platform.outbox.on(platform.eventsSql))
  await platform.consumersRunning(consumeNoteEvents({ bus: platform.bus, store: storeForEvents, queue: config.queue }))
  return { ...platform, app: createApp(store, platform, config.queue) }
}
