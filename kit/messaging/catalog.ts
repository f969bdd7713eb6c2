/**
 * What a service sends and what it receives, said once: the bus binds and checks what it
 * receives, the AsyncAPI document lists both, and the event constructor takes only what it
 * sends, with a body typed by the contract.
 */
import type { Static, TSchema } from '@sinclair/typebox'
import { v7 as uuidv7 } from 'uuid'
import { traceHeaders } from '../observability/tracing.ts'

/** Routing key -> the schema of its payload (the contract every such message must pass). */
export type Vocabulary = Record<string, TSchema>

/** A service's events: the ones it sends and the ones it receives, each with its schema. */
export type EventCatalog<Sends extends Vocabulary = Vocabulary, Receives extends Vocabulary = Vocabulary> = {
  readonly sends: Sends
  readonly receives: Receives
}

/** The events a catalog receives, routing key -> schema. */
export type Received<C extends EventCatalog> = C['receives']

/**
 * A service's catalog, taken from the shop's vocabulary (`vocabulary`, the contracts' routing
 * key -> schema): `eventCatalog(Events, { sends: ['thing.made'], receives: ['thing.asked'] })`.
 * The keys keep the order given, which is the order of the AsyncAPI document.
 */
export function eventCatalog<V extends Vocabulary, S extends keyof V & string, R extends keyof V & string>(
  vocabulary: V,
  { sends, receives }: { sends: readonly S[]; receives: readonly R[] },
): EventCatalog<Pick<V, S>, Pick<V, R>> {
  const unknown = [...sends, ...receives].filter((key) => !Object.hasOwn(vocabulary, key))
  if (unknown.length) throw new Error(`${unknown.join(', ')}: not in the vocabulary`)
  const pick = <K extends keyof V & string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, vocabulary[k]])) as Pick<V, K>
  return { sends: pick(sends), receives: pick(receives) }
}

/** The envelope the kit fills in on every event: its id (consumers deduplicate on it), time and shape version. */
type Envelope = 'eventId' | 'occurredAt' | 'version'

/** A new event, ready for the outbox (it fits `OutboxEvent`). */
export type NewEvent<K extends string = string> = {
  routingKey: K
  payload: { eventId: string; occurredAt: string; version: 1 } & Record<string, unknown>
  headers: Record<string, string>
}

/**
 * The constructor of the events a service sends: only a routing key of `catalog.sends`, and a
 * body that is what its contract says less the envelope, which is filled in here (the id a
 * UUIDv7, ordered by time). The trace of the request or message that caused the event travels
 * with it, so the relay continues that trace when it publishes.
 * `const newEvent = eventConstructor(catalog); newEvent('thing.made', { thingId }, headers)`.
 */
export const eventConstructor =
  <S extends Vocabulary>(_catalog: EventCatalog<S, Vocabulary>) =>
  <K extends keyof S & string>(routingKey: K, body: Omit<Static<S[K]>, Envelope>, headers: Record<string, string> = {}): NewEvent<K> => ({
    routingKey,
    payload: { eventId: uuidv7(), occurredAt: new Date().toISOString(), version: 1, ...(body as Record<string, unknown>) },
    headers: { ...traceHeaders(), ...headers },
  })
