import { Type as t, type Static } from '@sinclair/typebox'

export const Health = t.Object({
  status: t.Union([t.Literal('ok'), t.Literal('failing')], { description: '`failing` (503): the process cannot recover by itself; restart it' }),
  reason: t.Optional(t.String({ description: 'why it is failing' })),
})

export const DependencyState = t.Union([t.Literal('up'), t.Literal('down'), t.Literal('blocked')], {
  description: '`blocked`: RabbitMQ answers but holds publishers back (a memory or disk alarm); events wait in the outbox',
})
export const Readiness = t.Object({
  status: t.Union([t.Literal('ready'), t.Literal('degraded'), t.Literal('not_ready')], {
    description: '`degraded`: Redis or RabbitMQ is away and the service serves without it (200); `not_ready`: PostgreSQL is (503)',
  }),
  auth: t.Union([t.Literal('on'), t.Literal('off')], { description: '`off` only when AUTH=off turned authentication off' }),
  checks: t.Record(t.String(), DependencyState, { examples: [{ postgres: 'up', redis: 'up', rabbitmq: 'up' }] }),
  consumers: t.Optional(
    t.Record(t.String(), t.Union([t.Literal('attached'), t.Literal('detached')]), {
      description: "each queue's consumer: `detached` while it is being restored (the service is `degraded` meanwhile)",
      examples: [{ 'product.order-events': 'attached' }],
    }),
  ),
})

export type Readiness = Static<typeof Readiness>
