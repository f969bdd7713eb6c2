/**
 * Liveness (/health) and readiness (/ready): what the orchestrator asks, and what they mean here.
 */
import { Elysia } from 'elysia'
import { Health, Readiness } from '@shop/contracts'
import { withTimeout } from '../core/retry.ts'

/**
 * Every dependency asked at once, each given 2 s: what /ready answers and /metrics reports. A
 * check that resolves to `{ state }` reports that state (RabbitMQ `blocked`); one that throws or
 * is too slow is `down`.
 */
export const dependencyStates = (checks: Record<string, () => Promise<unknown>>) =>
  Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const state = await withTimeout(check(), 2000, 'too slow').then(
        (v) => ((v as { state?: unknown } | undefined)?.state === 'blocked' ? ('blocked' as const) : ('up' as const)),
        () => 'down' as const,
      )
      return [name, state] as const
    }),
  )

export type HealthOptions = {
  /** the dependencies without which the service cannot do its main job: only they fail /ready */
  required?: readonly string[]
  /** why the process cannot recover by itself, if it cannot: fails /health so that it is restarted */
  failing?: () => string | undefined
  /** each queue's consumer, attached or being restored */
  consumers?: () => Record<string, 'attached' | 'detached'>
}

const readyWithData = {
  operationId: 'ready',
  tags: ['ops'],
  summary: 'Readiness: the service can serve (its PostgreSQL answers); Redis, RabbitMQ and the consumers are reported',
  responses: {
    200: {
      description:
        '`ready`, or `degraded` when Redis or RabbitMQ is away or blocking, or a consumer is being restored (served without cache, events wait in the outbox)',
    },
    503: { description: 'PostgreSQL does not answer; `checks` says what is down' },
  },
}
// a service that only serves HTTP and calls others: none of them is required, since it answers
// for one that is away itself (a 503 with Retry-After for what needs it) and stays in its Service
const readyOverHttp = {
  operationId: 'ready',
  tags: ['ops'],
  summary: 'Readiness: the service answers; the services it calls are reported in `checks`',
  responses: {
    200: { description: '`ready`, or `degraded` while a service it calls does not answer (what needs that one gets a 503 with Retry-After)' },
  },
}

/**
 * Liveness says the process works or can recover by itself; it fails only when it cannot (a
 * consumer the broker does not take back within a bound), so that the orchestrator restarts it.
 * Readiness says it can do its main job: only the `required` dependencies (its PostgreSQL) decide
 * the 503 that takes a pod out of its Service. The others (Redis, RabbitMQ away or blocking, a
 * consumer being restored) are `degraded` with 200: the service still answers from PostgreSQL and
 * keeps events in its outbox, and a cache or broker restart must not empty every Service at once.
 */
export const health = (checks: Record<string, () => Promise<unknown>>, auth: 'on' | 'off', { required = ['postgres'], failing, consumers }: HealthOptions = {}) =>
  new Elysia({ name: 'health' })
    .get(
      '/health',
      ({ set }) => {
        const reason = failing?.()
        if (!reason) return { status: 'ok' as const }
        set.status = 503
        return { status: 'failing' as const, reason }
      },
      {
        response: { 200: Health, 503: Health },
        detail: {
          operationId: 'health',
          tags: ['ops'],
          summary: 'Liveness: the process answers and can recover by itself',
          responses: {
            200: { description: '`ok`' },
            503: { description: '`failing`: it cannot recover by itself (a consumer not restored within AMQP_CONSUMER_RESTORE_SECONDS); restart it' },
          },
        },
      },
    )
    .get(
      '/ready',
      async ({ set }) => {
        const results = await dependencyStates(checks)
        const down = results.filter(([, state]) => state !== 'up').map(([name]) => name)
        const attachedOrNot = consumers?.()
        const detached = Object.values(attachedOrNot ?? {}).some((s) => s === 'detached')
        const status = results.some(([name, state]) => state === 'down' && required.includes(name))
          ? ('not_ready' as const)
          : down.length || detached
            ? ('degraded' as const)
            : ('ready' as const)
        if (status === 'not_ready') set.status = 503
        return { status, auth, checks: Object.fromEntries(results), ...(attachedOrNot ? { consumers: attachedOrNot } : {}) }
      },
      {
        // without a required dependency it never answers 503: not documented then
        response: (required.length ? { 200: Readiness, 503: Readiness } : { 200: Readiness }) as { 200: typeof Readiness; 503: typeof Readiness },
        detail: required.length ? readyWithData : readyOverHttp,
      },
    )
