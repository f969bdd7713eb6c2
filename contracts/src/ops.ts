import { Type as t, type Static } from '@sinclair/typebox'

export const Health = t.Object({ status: t.Literal('ok') })

export const DependencyState = t.Union([t.Literal('up'), t.Literal('down')])
export const Readiness = t.Object({
  status: t.Union([t.Literal('ready'), t.Literal('degraded'), t.Literal('not_ready')], {
    description: '`degraded`: Redis or RabbitMQ is away and the service serves without it (200); `not_ready`: PostgreSQL is (503)',
  }),
  auth: t.Union([t.Literal('on'), t.Literal('off')], { description: '`off` only when AUTH=off turned authentication off' }),
  checks: t.Record(t.String(), DependencyState, { examples: [{ postgres: 'up', redis: 'up', rabbitmq: 'up' }] }),
})

export type Readiness = Static<typeof Readiness>
