import { serviceApp, type AppPlatform } from '@shop/kit'
import type { Bucket } from './config.ts'
import { notesRoutes } from './routes.ts'
import { AddNote, Note } from './schemas.ts'
import type { Store } from './store.ts'

/** The composition root of the HTTP side: the kit's shell (health, problems, docs) around the routes. */
export const createApp = (store: Store, platform: AppPlatform<Bucket>, queue: string) =>
  serviceApp(
    {
      title: 'notes service',
      description: 'Notes: an example service made from the kit alone.',
      port: 4000,
      schemas: { Note, AddNote },
      tags: [{ name: 'notes', description: 'Notes' }],
      events: { exchange: platform.exchange, queue },
    },
    platform,
    notesRoutes(store, platform.access),
  )
