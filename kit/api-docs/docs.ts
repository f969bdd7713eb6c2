/**
 * Swagger UI (from swagger-ui-dist, never a CDN) and the OpenAPI and AsyncAPI documents of a
 * service, served at /docs. Not @elysiajs/swagger or @elysiajs/openapi: their documents are
 * invalid or inaccurate for this API (docs/decisions/0001).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Elysia } from 'elysia'
import { FieldError, Health, Problem, Readiness, ValidationProblem } from '@shop/contracts'
import type { EventCatalog } from '../messaging/catalog.ts'
import { asyncApiDocument, type AsyncApiOptions } from './asyncapi.ts'
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
  /** where its events travel; what it sends and receives comes from its event catalog (none: no AsyncAPI document) */
  events?: Pick<AsyncApiOptions, 'exchange' | 'queue'>
}

/** What the documents say that comes from the service's vocabulary: its scopes and its event catalog, if it has events. */
export type DocVocabulary = { scopes: Record<string, string>; serviceScopes?: readonly string[]; events?: EventCatalog }

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
 * contract schemas), and the AsyncAPI 3.0 document of the service's events at /docs/asyncapi.json
 * (a service that only serves HTTP has none).
 */
export const docs = (service: ServiceDocs, vocabulary: DocVocabulary, routes: readonly DocRoute[]) => {
  const serviceOnly = new Set(vocabulary.serviceScopes ?? [])
  const scopes = Object.entries(vocabulary.scopes)
    .filter(([scope]) => !serviceOnly.has(scope))
    .map(([scope, what]) => `\`${scope}\` (${what})`)
    .join(', ')
  const events = service.events && vocabulary.events ? { ...service.events, events: vocabulary.events } : undefined
  const info: DocInfo = {
    title: service.title,
    version: '1.0.0',
    description: events
      ? `${service.description}\n\nThe events this service sends and receives: [AsyncAPI document](/docs/asyncapi.json).`
      : service.description,
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
  const asyncapi = events && asyncApiDocument({ info: { ...info, title: `${service.title}: events`, description: service.description }, ...events })
  const hide = { detail: { hide: true } }
  return new Elysia({ name: 'docs' })
    .get('/docs', () => new Response(page(service.title), { headers: { 'content-type': 'text/html; charset=utf-8' } }), hide)
    .get('/docs/json', json(openapi), hide)
    .use(asyncapi ? new Elysia().get('/docs/asyncapi.json', json(asyncapi), hide) : new Elysia())
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
