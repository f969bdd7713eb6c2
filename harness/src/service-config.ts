import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TObject } from '@sinclair/typebox'

/**
 * A service's env schema: what its package exports as `Config` (`@shop/<service>/config`), a JSON
 * Schema of every variable it reads with its default and description. Read in a process of its
 * own, run from the service's folder, so that the harness never imports a service: the services
 * depend on the harness for their tests, and the dependency must point one way only.
 */
export type ConfigSchema = TObject
const read = new Map<string, ConfigSchema>()

export function configSchema(service: 'product' | 'order'): ConfigSchema {
  const known = read.get(service)
  if (known) return known
  const cwd = fileURLToPath(new URL(`../../${service}/`, import.meta.url))
  const run = spawnSync(
    process.versions.bun ? process.execPath : 'bun',
    ['-e', `const { Config } = await import('@shop/${service}/config'); process.stdout.write(JSON.stringify(Config))`],
    { cwd, encoding: 'utf8' },
  )
  if (run.status !== 0) throw new Error(`reading ${service}'s configuration schema failed: ${run.stderr}`)
  const schema = JSON.parse(run.stdout) as ConfigSchema
  read.set(service, schema)
  return schema
}
