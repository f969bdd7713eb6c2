import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Elysia } from 'elysia'
import { swagger } from '@elysiajs/swagger'
import { Health, Readiness } from '@shop/contracts'

type Info = { title: string; version: string; description: string }

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

const page = (info: Info) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>${info.title}</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script>window.onload = () => { window.ui = SwaggerUIBundle({ url: '/docs/json', dom_id: '#swagger-ui' }) }</script>
</body>
</html>`

/**
 * OpenAPI at /docs/json (generated from the route schemas, i.e. from contracts/) and Swagger UI
 * at /docs. The plugin's own page pulls Swagger UI from a CDN, so /docs is answered here first
 * with a page whose assets come from swagger-ui-dist in node_modules: it works offline.
 */
export const docs = (info: Info) => {
  const html = page(info)
  return new Elysia({ name: 'docs' })
    .onRequest(({ request }) => {
      const { pathname } = new URL(request.url)
      if (pathname === '/docs' || pathname === '/docs/')
        return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } })
    })
    .use(swagger({ path: '/docs', specPath: '/docs/json', provider: 'swagger-ui', documentation: { info } }))
    .get(
      '/docs/assets/:file',
      ({ params, status }) => {
        const name = params.file as Asset
        if (!(name in assetTypes)) return status(404, 'no such asset')
        return new Response(asset(name), {
          headers: { 'content-type': assetTypes[name], 'cache-control': 'public, max-age=86400' },
        })
      },
      { detail: { hide: true } },
    )
}

/** Liveness says the process answers; readiness asks every dependency. */
export const health = (checks: Record<string, () => Promise<unknown>>) =>
  new Elysia({ name: 'health' })
    .get('/health', () => ({ status: 'ok' as const }), {
      response: Health,
      detail: { tags: ['ops'], summary: 'Liveness: the process answers' },
    })
    .get(
      '/ready',
      async ({ set }) => {
        const results = await Promise.all(
          Object.entries(checks).map(async ([name, check]) => {
            const up = await Promise.race([
              check().then(() => true, () => false),
              new Promise<boolean>((r) => setTimeout(r, 2000, false)),
            ])
            return [name, up ? 'up' : 'down'] as const
          }),
        )
        const ready = results.every(([, state]) => state === 'up')
        if (!ready) set.status = 503
        return { status: ready ? ('ready' as const) : ('not_ready' as const), checks: Object.fromEntries(results) }
      },
      {
        response: { 200: Readiness, 503: Readiness },
        detail: { tags: ['ops'], summary: 'Readiness: PostgreSQL, Redis and RabbitMQ answer' },
      },
    )
