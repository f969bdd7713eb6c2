import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import SwaggerParser from '@apidevtools/swagger-parser'
import { createConfig, lintFromString } from '@redocly/openapi-core'
import { Parser } from '@asyncapi/parser'
import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { Client, Reply } from './http.ts'

type Json = Record<string, any>

/** swagger-parser's validation: throws with the reasons when the document is not valid OpenAPI. */
export const validateOpenApi = (doc: Json) => SwaggerParser.validate(structuredClone(doc) as never)

/** Redocly's `recommended` rules: the problems found, as `severity rule at pointer: message`. */
export async function lintOpenApi(doc: Json, name: string) {
  const config = await createConfig({ extends: ['recommended'] })
  const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: `/${name}.json`, config })
  const line = (p: (typeof problems)[number]) => `${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`
  return {
    errors: problems.filter((p) => p.severity === 'error').map(line),
    warnings: problems.filter((p) => p.severity === 'warn').map(line),
  }
}

/** @asyncapi/parser's diagnostics of severity error (0). */
export async function asyncApiErrors(doc: Json) {
  const { diagnostics } = await new Parser().parse(JSON.stringify(doc))
  return diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('/')}: ${d.message}`)
}

const mediaType = (reply: Reply) => (reply.headers.get('content-type') ?? '').split(';')[0]!.trim() || undefined

/**
 * Holds the server to its document, both ways: every answer recorded must be documented for
 * its operation (status, media type, the headers it sent that the document names), and every
 * documented response must have been seen at least once.
 */
export function conformance(doc: Json, api: Client) {
  const seen = new Set<string>()
  const undocumented: string[] = []
  const documentedHeaders = new Set(Object.keys(doc.components?.headers ?? {}).map((h) => h.toLowerCase()))
  const check = {
    /** sends a request (`body`: JSON, or a string sent raw) and records the answer under the path template */
    async send(method: string, template: string, path: string, o: { body?: unknown; headers?: Record<string, string>; token?: string | null } = {}) {
      const raw = typeof o.body === 'string' ? o.body : o.body === undefined ? undefined : JSON.stringify(o.body)
      const sent = raw === undefined ? o.headers : { 'content-type': 'application/json', ...o.headers }
      const reply = await (o.token === undefined ? api : api.as(o.token)).send(method, path, { raw, headers: sent })
      check.record(method, template, reply)
      return reply
    },
    record(method: string, template: string, reply: Reply) {
      const op = doc.paths?.[template]?.[method.toLowerCase()]
      const where = `${method} ${template} ${reply.status}`
      if (!op) return void undocumented.push(`${method} ${template}: no such operation`)
      const response = op.responses?.[String(reply.status)]
      if (!response) return void undocumented.push(`${where}: status not documented`)
      const documentedTypes = Object.keys(response.content ?? {})
      const type = mediaType(reply)
      if (reply.text === '' ? documentedTypes.length > 0 : !documentedTypes.includes(type ?? ''))
        undocumented.push(`${where}: sent ${type ?? 'no body'}, documented ${documentedTypes.join(', ') || 'no body'}`)
      const names = new Set(Object.keys(response.headers ?? {}).map((h) => h.toLowerCase()))
      reply.headers.forEach((_, header) => {
        if (documentedHeaders.has(header) && !names.has(header)) undocumented.push(`${where}: header ${header} not documented`)
      })
      seen.add(`${method.toUpperCase()} ${template} ${reply.status}`)
    },
    undocumented: () => undocumented,
    /** documented responses no recorded answer showed */
    neverSent() {
      const all = Object.entries<Json>(doc.paths).flatMap(([template, ops]) =>
        Object.entries<Json>(ops).flatMap(([method, op]) =>
          Object.keys(op.responses).map((status) => `${method.toUpperCase()} ${template} ${status}`),
        ),
      )
      return all.filter((r) => !seen.has(r))
    },
  }
  return check
}

/**
 * Every route's request body and parameters carry an example, and every example passes its own
 * schema, so "Try it out" starts from values the server accepts. Returns what is missing or wrong.
 */
export function badExamples(routes: readonly { method: string; path: string; hooks: Json }[]) {
  const bad: string[] = []
  for (const { method, path, hooks } of routes) {
    if (hooks.detail?.hide) continue
    const check = (where: string, schema: TSchema) => {
      const example = (schema as Json).examples?.[0]
      if (example === undefined) bad.push(`${method} ${path} ${where}: no example`)
      else if (!Value.Check(schema, example)) bad.push(`${method} ${path} ${where}: example ${JSON.stringify(example)} fails its schema`)
    }
    if (hooks.body) check('body', hooks.body)
    for (const part of ['params', 'query', 'headers'] as const)
      for (const [name, schema] of Object.entries<TSchema>(hooks[part]?.properties ?? {})) check(`${part}.${name}`, schema)
  }
  return bad
}

// accepted on purpose (docs/api.md): no license is declared; /health and /ready have no 4xx to send;
// an order's id is a UUID, never `product`, so `/orders/{id}/...` and `/orders/product/{productId}` do not meet
const acceptedWarnings = [
  /^info-license /,
  /^operation-4xx-response at #\/paths\/~1(health|ready)\//,
  /^no-ambiguous-paths at #\/paths\/~1orders~1product~1\{productId\}: .* `\/orders\/\{id\}\/(timeline|events)` and `\/orders\/product\/\{productId\}`\.$/,
]

type Served = { api: Client; routes: readonly { method: string; path: string; hooks: Json }[]; stop(): Promise<void> }
type Expected = { operationIds: string[]; schemas: string[]; events: string[] }

/** The checks both services' documents pass: valid, lint-clean, named, with working examples. */
export function apiDocumentSuite(service: string, boot: () => Promise<Served>, expected: Expected) {
  let served: Served
  let openapi: Json
  beforeAll(async () => {
    served = await boot()
    openapi = (await served.api.get('/docs/json')).body
  })
  afterAll(() => served.stop())

  describe(`${service}'s API documents`, () => {
    it('when /docs/json is read, then it is OpenAPI 3.1.0 that swagger-parser accepts', async () => {
      expect(openapi.openapi).toBe('3.1.0')
      await validateOpenApi(openapi)
    })

    it("when linted with Redocly's recommended rules, then there is no error and only the accepted warnings", async () => {
      const { errors, warnings } = await lintOpenApi(openapi, service)
      expect(errors).toEqual([])
      expect(warnings.filter((w) => !acceptedWarnings.some((ok) => ok.test(w)))).toEqual([])
    })

    it('then every operation has its stable operationId, and the contracts are named components', () => {
      const ids = Object.values<Json>(openapi.paths).flatMap((ops) => Object.values<Json>(ops).map((op) => op.operationId))
      expect(ids.sort()).toEqual([...expected.operationIds].sort())
      expect(Object.keys(openapi.components.schemas)).toEqual(expect.arrayContaining(expected.schemas))
      for (const op of Object.values<Json>(openapi.paths).flatMap((ops) => Object.values<Json>(ops)))
        if (op.requestBody) expect(Object.keys(op.requestBody.content)).toEqual(['application/json'])
    })

    it('then every request body and parameter has an example that passes its own schema', () => {
      expect(badExamples(served.routes)).toEqual([])
    })

    it(`when /docs/asyncapi.json is read, then @asyncapi/parser accepts it and it lists what ${service} sends and receives`, async () => {
      const { status, body: asyncapi } = await served.api.get('/docs/asyncapi.json')
      expect(status).toBe(200)
      expect(await asyncApiErrors(asyncapi)).toEqual([])
      expect(asyncapi.asyncapi).toBe('3.0.0')
      const actions = Object.values<Json>(asyncapi.operations).map(
        (op) => `${op.action} ${asyncapi.channels[op.channel.$ref.split('/').pop()].address}`,
      )
      expect(actions.sort()).toEqual([...expected.events].sort())
    })
  })
}
