import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Elysia } from 'elysia'
import { notFound } from '@shop/kit'

/**
 * What a browser gets at `/`: the storefront built into `bff/web/dist` (index.html and its
 * assets, served as files) once there is one; until then a small page that points to the API.
 * The storefront is built apart from the bff (bff/web/); nothing else here knows it.
 */
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

const placeholder = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>shop</title>
  <link rel="icon" href="data:," />
</head>
<body>
  <h1>shop</h1>
  <p>The storefront is not built yet. The API: <a href="/docs">/docs</a> (Swagger UI), <a href="/docs/json">/docs/json</a> (OpenAPI).</p>
</body>
</html>`

const hide = { detail: { hide: true } }
const html = (body: string) => new Response(body, { headers: { 'content-type': 'text/html; charset=utf-8' } })

/** `/` and, once the storefront is built, every file under `dist` at its own path. */
export function storefront(dist: string = fileURLToPath(new URL('../web/dist/', import.meta.url))) {
  const root = normalize(dist.endsWith(sep) ? dist : dist + sep)
  if (!existsSync(join(root, 'index.html'))) return new Elysia({ name: 'storefront' }).get('/', () => html(placeholder), hide)

  const file = async (relative: string) => {
    const path = normalize(join(root, relative))
    // `..` and encoded slashes must not leave dist/
    if (!path.startsWith(root)) throw notFound(relative)
    const bytes = await readFile(path).catch(() => undefined)
    if (!bytes) throw notFound(relative)
    return new Response(bytes, { headers: { 'content-type': types[extname(path)] ?? 'application/octet-stream' } })
  }
  return new Elysia({ name: 'storefront' })
    .get('/', () => file('index.html'), hide)
    .get('/*', ({ params }) => file(decodeURIComponent(params['*'])), hide)
}
