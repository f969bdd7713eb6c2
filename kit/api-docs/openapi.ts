/**
 * The OpenAPI 3.1 document of a service, written from Elysia's route table and the routes'
 * TypeBox schemas (docs/decisions/0001).
 */
import { PROBLEM_CONTENT_TYPE, Problem, ValidationProblem } from '@shop/contracts'

/**
 * OpenAPI 3.1 from the route table. Elysia keeps each route's TypeBox schemas (`body`, `params`,
 * `query`, `headers`, `response`) and its `detail`; TypeBox schemas are JSON Schema 2020-12,
 * which is OpenAPI 3.1's schema dialect, so they go in as they are. A schema that is one of the
 * named contracts becomes a `$ref` to `components.schemas`, wherever it appears.
 */

type Schema = Record<string, unknown>
type Json = Record<string, any>
export type DocRoute = { method: string; path: string; hooks: Json }
export type DocInfo = { title: string; version: string; description: string }
export type OpenApiOptions = {
  info: DocInfo
  /** name -> contract schema; each is listed once under components.schemas and referenced */
  schemas: Record<string, unknown>
  servers: { url: string; description: string }[]
  tags: { name: string; description: string }[]
  securitySchemes?: Json
  /** response headers the service documents beyond the kit's `docHeaders` */
  headers?: Record<string, { description: string; schema: Json }>
}

const header = (description: string, schema: Json = { type: 'string' }) => ({ description, schema })
export const docHeaders = {
  'X-Request-Id': header("The request's id: the caller's `X-Request-Id` or `X-Correlation-Id` when it is safe, else a new one"),
  'X-Correlation-Id': header('The same id, under the name the seed API used'),
  Location: header('Path of the created resource'),
  'Retry-After': header('Seconds to wait before trying again', { type: 'integer', minimum: 1 }),
  'X-Cache': header('Whether the answer came from the cache', { type: 'string', enum: ['HIT', 'MISS'] }),
  'WWW-Authenticate': header('RFC 6750: `Bearer error="invalid_token"` (401) or `error="insufficient_scope"` (403)'),
  'RateLimit-Limit': header('Requests allowed per window', { type: 'integer' }),
  'RateLimit-Remaining': header('Requests left in this window', { type: 'integer' }),
  'RateLimit-Reset': header('Seconds until the window ends', { type: 'integer' }),
  'RateLimit-Policy': header('The limit and its window, e.g. `120;w=60`'),
  ETag: header('The version of the resource as a strong entity tag (`"3"`): send it back as If-None-Match to read, or If-Match to write'),
} as const
/** A response header: one of the kit's (`docHeaders`) or one the service documents itself (`headers`). */
export type DocHeader = keyof typeof docHeaders | (string & {})
/** A header a service sends beyond the kit's, for its API document: `{ 'My-Header': docHeader('what it says') }`. */
export const docHeader = header
const headerRef = (h: DocHeader) => ({ $ref: `#/components/headers/${h}` })

/**
 * A route's own words for one response, with the headers only it sends (`detail.responses`); a
 * response may also say its `content` (media type -> schema), for a body that is not JSON.
 */
export const described = (description: string, ...headers: DocHeader[]) => ({
  description,
  ...(headers.length ? { headers: Object.fromEntries(headers.map((h) => [h, headerRef(h)])) } : {}),
})

const standardDescriptions: Record<number, string> = {
  200: 'OK',
  201: 'Created; `Location` names it',
  204: 'Done; no content',
  304: 'Not modified: the copy the client holds is current; no body',
  400: 'The request is not valid; `errors` names each offending field',
  401: 'No valid bearer token: missing, malformed, expired, not yet valid, wrong issuer or audience, or badly signed',
  403: 'The token lacks the scope this operation needs',
  413: 'The body is larger than MAX_BODY_BYTES (refused before it is read)',
  415: 'The body is not `application/json`',
  404: 'Not found',
  409: 'Conflicts with the current state',
  412: 'A precondition (If-Match) does not hold: the resource changed since it was read; nothing was written',
  422: 'Well-formed but refused',
  429: 'Too many requests from this caller in this window; try again after `Retry-After` seconds',
  503: 'A dependency is unavailable; try again after `Retry-After` seconds',
}
const headersByStatus: Record<number, DocHeader[]> = { 201: ['Location'] }
const problemHeaders: Record<number, DocHeader[]> = {
  401: ['WWW-Authenticate'],
  403: ['WWW-Authenticate'],
  429: ['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy'],
  503: ['Retry-After'],
}
const isProblem = (schema: unknown) => schema === Problem || schema === ValidationProblem

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const isSchemaMap = (r: unknown): r is Record<string, unknown> =>
  typeof r === 'object' && r !== null && Object.keys(r).every((k) => /^\d{3}$/.test(k))

/** A plain JSON copy of a TypeBox schema (its symbols dropped) with named contracts as `$ref`s. */
function toJson(schema: unknown, names: Map<unknown, string>, top?: string): unknown {
  const name = names.get(schema)
  if (name && name !== top) return ref(name)
  if (Array.isArray(schema)) return schema.map((s) => toJson(s, names))
  if (typeof schema !== 'object' || schema === null) return schema
  const out: Schema = {}
  for (const [k, v] of Object.entries(schema)) if (k !== '$id' && !(k === 'error' && typeof v === 'string')) out[k] = toJson(v, names)
  return out
}

const firstExample = (schema: unknown) => (schema as { examples?: unknown[] } | undefined)?.examples?.[0]

function parameters(hooks: Json, names: Map<unknown, string>) {
  const out: Json[] = []
  for (const [where, schema] of [['path', hooks.params], ['query', hooks.query], ['header', hooks.headers]] as const) {
    if (!schema?.properties) continue
    const required: string[] = schema.required ?? []
    for (const [name, prop] of Object.entries<Json>(schema.properties)) {
      const example = firstExample(prop)
      out.push({
        name,
        in: where,
        required: where === 'path' || required.includes(name),
        ...(prop.description ? { description: prop.description } : {}),
        schema: toJson(prop, names),
        ...(example !== undefined ? { example } : {}),
      })
    }
  }
  return out
}

/** The answers every route with an access rule (and every route with a body) can give besides its own. */
function implied(hooks: Json): Record<string, unknown> {
  const access = hooks.detail?.['x-access'] as { scopes?: string[] } | undefined
  return {
    ...(access ? { 401: Problem, 429: Problem } : {}),
    ...(access?.scopes ? { 403: Problem } : {}),
    ...(hooks.body ? { 413: Problem, 415: Problem } : {}),
  }
}

function responses(hooks: Json, names: Map<unknown, string>) {
  const own: Record<string, unknown> = isSchemaMap(hooks.response) ? hooks.response : hooks.response ? { 200: hooks.response } : {}
  const declared = { ...implied(hooks), ...own }
  const extra: Json = hooks.detail?.responses ?? {}
  const out: Json = {}
  for (const code of [...new Set([...Object.keys(declared), ...Object.keys(extra)])].sort()) {
    const status = Number(code)
    const schema = declared[code]
    const own = extra[code] ?? {}
    const problem = isProblem(schema)
    const headerNames: DocHeader[] = ['X-Request-Id', 'X-Correlation-Id', ...((problem ? problemHeaders : headersByStatus)[status] ?? [])]
    const isEmpty = status === 204 || status === 304 || !schema || (schema as Json).type === 'undefined'
    out[code] = {
      description: own.description ?? standardDescriptions[status] ?? 'Response',
      headers: { ...Object.fromEntries(headerNames.map((h) => [h, headerRef(h)])), ...own.headers },
      // a route that answers another media type (an event stream, say) says its content itself
      ...(own.content
        ? { content: toJson(own.content, names) }
        : isEmpty
          ? {}
          : { content: { [problem ? PROBLEM_CONTENT_TYPE : 'application/json']: { schema: toJson(schema, names) } } }),
    }
  }
  return out
}

function operation(route: DocRoute, names: Map<unknown, string>) {
  const { hooks } = route
  const { responses: _r, hide: _h, 'x-access': access, ...detail } = hooks.detail ?? {}
  const example = firstExample(hooks.body)
  const params = parameters(hooks, names)
  return {
    // anyone may call it (a token, when sent, must be valid), unless it needs a scope
    security: access?.scopes ? [{ bearer: access.scopes }] : [],
    ...detail,
    ...(params.length ? { parameters: params } : {}),
    ...(hooks.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: toJson(hooks.body, names), ...(example !== undefined ? { example } : {}) } },
          },
        }
      : {}),
    responses: responses(hooks, names),
  }
}

export function openApiDocument(routes: readonly DocRoute[], options: OpenApiOptions) {
  const names = new Map<unknown, string>(Object.entries(options.schemas).map(([name, schema]) => [schema, name]))
  const paths: Json = {}
  for (const route of routes) {
    if (route.hooks?.detail?.hide) continue
    if (!route.hooks?.detail?.operationId) throw new Error(`${route.method} ${route.path} has no operationId (or detail.hide)`)
    const path = route.path.replace(/:([^/]+)/g, '{$1}')
    paths[path] ??= {}
    paths[path][route.method.toLowerCase()] = operation(route, names)
  }
  const schemas = Object.fromEntries(Object.entries(options.schemas).map(([name, schema]) => [name, toJson(schema, names, name)]))
  const used = referenced(paths, schemas)
  return {
    openapi: '3.1.0',
    info: options.info,
    servers: options.servers,
    tags: options.tags,
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(`#/components/schemas/${name}`))),
      headers: Object.fromEntries(
        Object.entries({ ...docHeaders, ...options.headers }).filter(([name]) => used.has(`#/components/headers/${name}`)),
      ),
      ...(options.securitySchemes ? { securitySchemes: options.securitySchemes } : {}),
    },
  }
}

/** Every `$ref` reachable from the paths, through the named schemas they point at. */
function referenced(paths: Json, schemas: Json): Set<string> {
  const found = new Set<string>()
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk)
    if (typeof node !== 'object' || node === null) return
    const target = (node as Json).$ref
    if (typeof target === 'string' && !found.has(target)) {
      found.add(target)
      walk(schemas[target.replace('#/components/schemas/', '')])
    }
    Object.values(node).forEach(walk)
  }
  walk(paths)
  return found
}
