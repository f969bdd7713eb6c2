import type { Static, TObject } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/**
 * Reads a service's configuration from an env-like record once: defaults applied, strings
 * converted to the schema's types, and every bad variable named in one error at start-up.
 */
export function readEnv<S extends TObject>(schema: S, env: Record<string, string | undefined>): Static<S> {
  const picked: Record<string, unknown> = {}
  for (const key of Object.keys(schema.properties)) if (env[key] !== undefined && env[key] !== '') picked[key] = env[key]
  const value = Value.Convert(schema, Value.Default(schema, picked))
  if (!Value.Check(schema, value)) {
    const problems = [...Value.Errors(schema, value)].map((e) => `${e.path.slice(1)}: ${e.message}`)
    throw new Error(`invalid configuration: ${problems.join('; ')}`)
  }
  return value as Static<S>
}
