/**
 * Messaging over RabbitMQ: what a service publishes and consumes (the bus), the names of the
 * topology every service declares alike, and the dead letters an operator looks at and replays.
 */
export { createBus, type Bus, type BusState, type Outgoing } from './bus.ts'
export { amqpUrls, coalesceWrites } from './connection.ts'
export { topology, type QueueType } from './topology.ts'
export type { Consumer, Incoming } from './delivery.ts'
export { deadLetters, type DeadLetter } from './dead-letters.ts'
