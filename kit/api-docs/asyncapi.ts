/**
 * The AsyncAPI 3.0 document of a service's events, written from the event catalog the service
 * hands the kit; no maintained library builds one from TypeBox schemas at run time
 * (docs/decisions/0001).
 */
import { EventHeaders } from '@shop/contracts'
import type { EventCatalog } from '../messaging/catalog.ts'
import type { DocInfo } from './openapi.ts'

/**
 * AsyncAPI 3.0 for one service's side of the events: one channel per routing key on the topic
 * exchange, the message is the contract's payload schema with its headers, and an operation per
 * event the service sends or receives. Generated from the service's event catalog (the
 * schemas it hands the kit), like the OpenAPI document is from the routes.
 */
export type AsyncApiOptions = {
  info: DocInfo
  exchange: string
  queue: string
  /** what the service sends and receives: routing key -> the schema of its payload (its `description` says who sends it and why) */
  events: EventCatalog
}

const AMQP_BINDING = '0.3.0'
const camel = (name: string) => name.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase())
const plain = (schema: unknown) => JSON.parse(JSON.stringify(schema, (k, v) => (k === '$id' ? undefined : v)))

export function asyncApiDocument({ info, exchange, queue, events: catalog }: AsyncApiOptions) {
  const sends = Object.keys(catalog.sends)
  const receives = Object.keys(catalog.receives)
  const events = [...sends, ...receives]
  const schemaOf = (e: string) => catalog.sends[e] ?? catalog.receives[e]
  const channel = (name: string) => ({
    address: name,
    description: `Messages with routing key \`${name}\` on the topic exchange \`${exchange}\`.`,
    messages: { [camel(name)]: { $ref: `#/components/messages/${camel(name)}` } },
    bindings: {
      amqp: {
        is: 'routingKey',
        exchange: { name: exchange, type: 'topic', durable: true, autoDelete: false, vhost: '/' },
        bindingVersion: AMQP_BINDING,
      },
    },
  })
  const operation = (name: string, action: 'send' | 'receive') => ({
    action,
    channel: { $ref: `#/channels/${camel(name)}` },
    summary: action === 'send' ? `Publishes \`${name}\` through the outbox, with publisher confirms` : `Consumes \`${name}\` from \`${queue}\``,
    messages: [{ $ref: `#/channels/${camel(name)}/messages/${camel(name)}` }],
    // persistent messages (deliveryMode 2) published with confirms; consumers ack after commit
    bindings: { amqp: action === 'send' ? { deliveryMode: 2, mandatory: true, bindingVersion: AMQP_BINDING } : { ack: true, bindingVersion: AMQP_BINDING } },
  })
  return {
    asyncapi: '3.0.0',
    info,
    defaultContentType: 'application/json',
    servers: {
      rabbitmq: { host: 'localhost:5672', protocol: 'amqp', protocolVersion: '0.9.1', description: 'RabbitMQ (AMQP_URL)' },
    },
    channels: Object.fromEntries(events.map((e) => [camel(e), channel(e)])),
    operations: Object.fromEntries([
      ...sends.map((e) => [`send${camel('.' + e)}`, operation(e, 'send')]),
      ...receives.map((e) => [`receive${camel('.' + e)}`, operation(e, 'receive')]),
    ]),
    components: {
      messages: Object.fromEntries(
        events.map((e) => [
          camel(e),
          {
            name: e,
            title: e,
            summary: schemaOf(e)!.description,
            contentType: 'application/json',
            headers: { $ref: '#/components/schemas/EventHeaders' },
            payload: { $ref: `#/components/schemas/${camel('.' + e)}` },
            bindings: { amqp: { messageType: e, bindingVersion: AMQP_BINDING } },
          },
        ]),
      ),
      schemas: {
        EventHeaders: plain(EventHeaders),
        ...Object.fromEntries(events.map((e) => [camel('.' + e), plain(schemaOf(e))])),
      },
    },
  }
}
