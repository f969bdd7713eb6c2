import { Type as t } from '@sinclair/typebox'
import { limitEnv, readEnv, serviceConfig, serviceEnv, type Buckets } from '@shop/kit'

/** The rate-limit buckets (RATE_LIMIT_READS, RATE_LIMIT_WRITES): what one caller may do per window. */
export const buckets = {
  reads: { default: 3000, description: 'notes read per caller per window', batched: true },
  writes: { default: 100, description: 'notes added per caller per window' },
} as const satisfies Buckets
export type Bucket = keyof typeof buckets

/** Every variable the kit reads for a service with data, with this service's defaults, and its own queue. */
export const Config = t.Object({
  ...serviceEnv({ port: 4000, database: 'shop_notes', cachePrefix: 'shop:notes:' }),
  ...limitEnv(buckets),
  NOTES_QUEUE: t.String({ default: 'notes.note-events', description: "notes' queue: note.added (dead letters in `<queue>.dlq`)" }),
})

export type NotesConfig = ReturnType<typeof loadConfig>

export const loadConfig = (env: Record<string, string | undefined>) => {
  const c = readEnv(Config, env)
  return serviceConfig(c, c.NOTES_QUEUE, buckets)
}
