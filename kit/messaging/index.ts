/**
 * Messaging over RabbitMQ: what a service publishes and consumes (the bus), the names of the
 * topology every service declares alike, and the dead letters an operator looks at and replays.
 */
export { createBus, topology, amqpUrls, coalesceWrites, type Bus, type BusState, type QueueType, type Outgoing } from './bus.ts'
export type { Consumer, Incoming } from './delivery.ts'
export { deadLetters, type DeadLetter } from './dead-letters.ts'
