/**
 * Messaging over RabbitMQ: what a service sends and receives (its event catalog and the typed
 * constructor of what it sends), the bus it publishes and consumes through, the names of the
 * topology every service declares alike, and the dead letters an operator looks at and replays.
 */
export { createBus, type Bus, type BusState, type Outgoing } from './bus.ts'
export { eventCatalog, eventConstructor, type EventCatalog, type NewEvent, type Vocabulary } from './catalog.ts'
export { amqpUrls, coalesceWrites } from './connection.ts'
export { topology, type QueueType } from './topology.ts'
export type { Consumer, Incoming } from './delivery.ts'
export { deadLetters, type DeadLetter } from './dead-letters.ts'
