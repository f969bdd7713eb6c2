import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Elysia } from 'elysia'
import type { TSchema } from '@sinclair/typebox'
import { FieldError, Health, Problem, Readiness, ValidationProblem } from '@shop/contracts'
import { asyncApiDocument, type AsyncApiOptions } from './asyncapi.ts'
import { withTimeout } from './retry.ts'
import { openApiDocument, type DocInfo, type DocRoute, type OpenApiOptions } from './openapi.ts'

export type ServiceDocs = {
  title: string
  description: string
  /** the default port, for the `servers` entry a generated client starts from */
  port: number
  /** the service's named schemas (the kit adds its own: problems, health, readiness) */
  schemas: OpenApiOptions['schemas']
  tags: OpenApiOptions['tags']
  /** response headers the service sends beyond the kit's (`docHeader(...)`) */
  headers?: OpenApiOptions['headers']
  events: Pick<AsyncApiOptions, 'sends' | 'receives' | 'exchange' | 'queue'>
}

/** What the documents say that comes from the service's vocabulary: its scopes and events. */
export type DocVocabulary = { scopes: Record<string, string>; serviceScopes?: readonly string[]; events: Record<string, TSchema> }

/** The kit's own named schemas: what every service answers with outside its routes' contracts. */
const kitSchemas = { Problem, ValidationProblem, FieldError, Health, Readiness }

const assetTypes = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const
type Asset = keyof typeof assetTypes

const assetDir = () => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
const assets = new Map<Asset, string>()
const asset = (name: Asset) => {
  if (!assets.has(name)) assets.set(name, readFileSync(join(assetDir(), name), 'utf8'))
  return assets.get(name)!
}

const page = (title: string) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>${title}</title>
  <link rel="icon" href="data:," />
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script>window.onload = () => { window.ui = SwaggerUIBundle({ url: '/docs/json', dom_id: '#swagger-ui', persistAuthorization: true }) }</script>
</body>
</html>`

const json = (doc: unknown) => {
  const body = JSON.stringify(doc)
  return () => new Response(body, { headers: { 'content-type': 'application/json; charset=utf-8' } })
}

/**
 * Swagger UI at /docs (assets from swagger-ui-dist in node_modules: no CDN), OpenAPI 3.1 at
 * /docs/json built from `routes` (the app's route table, so every route documents itself from its
 * contract schemas), and the AsyncAPI 3.0 document of the service's events at /docs/asyncapi.json.
 */
export const docs = (service: ServiceDocs, vocabulary: DocVocabulary, routes: readonly DocRoute[]) => {
  const serviceOnly = new Set(vocabulary.serviceScopes ?? [])
  const scopes = Object.entries(vocabulary.scopes)
    .filter(([scope]) => !serviceOnly.has(scope))
    .map(([scope, what]) => `\`${scope}\` (${what})`)
    .join(', ')
  const info: DocInfo = {
    title: service.title,
    version: '1.0.0',
    description: `${service.description}\n\nThe events this service sends and receives: [AsyncAPI document](/docs/asyncapi.json).`,
  }
  const openapi = openApiDocument(routes, {
    info,
    schemas: { ...kitSchemas, ...service.schemas },
    headers: service.headers,
    servers: [{ url: '/', description: `this server (port ${service.port} unless PORT says otherwise)` }],
    tags: [...service.tags, { name: 'ops', description: 'Liveness and readiness' }],
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          `An access token (JWT) from the identity provider, with \`scope\` (or \`scp\`) listing the scopes: ${scopes}. ` +
          'Locally, `bun run start` prints tokens; `bun run token` mints more.',
      },
    },
  })
  const asyncapi = asyncApiDocument({
    info: { ...info, title: `${service.title}: events`, description: service.description },
    ...service.events,
    vocabulary: vocabulary.events,
  })
  const hide = { detail: { hide: true } }
  return new Elysia({ name: 'docs' })
    .get('/docs', () => new Response(page(service.title), { headers: { 'content-type': 'text/html; charset=utf-8' } }), hide)
    .get('/docs/json', json(openapi), hide)
    .get('/docs/asyncapi.json', json(asyncapi), hide)
    .get(
      '/docs/assets/:file',
      ({ params, status }) => {
        const name = params.file as Asset
        if (!(name in assetTypes)) return status(404, 'no such asset')
        return new Response(asset(name), {
          headers: { 'content-type': assetTypes[name], 'cache-control': 'public, max-age=86400' },
        })
      },
      hide,
    )
}

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
        response: { 200: Readiness, 503: Readiness },
        detail: {
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
        },
      },
    )
