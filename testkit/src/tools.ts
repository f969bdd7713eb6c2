import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('../../', import.meta.url))

/**
 * The programs some suites need besides Bun and the three servers, and what happens when one is
 * missing. Deno comes with the project (the `deno` npm package, pinned like every dependency), so
 * it is never missing. A browser, promtool and RabbitMQ's management API may be: then the suites
 * that need them are skipped, and the run ends with one line per missing tool saying how to get
 * it (`tools-report.ts`, preloaded by bunfig.toml). With HARNESS_REQUIRE_TOOLS=1, as CI sets, a
 * missing tool fails the file instead.
 */

export type Tool = 'chromium' | 'promtool' | 'kubectl' | 'rabbitmq management API'

const HOW_TO_GET: Record<Tool, string> = {
  chromium:
    'install Chromium or Chrome (apt-get install chromium, brew install --cask chromium), or run `bunx playwright-core install chromium`, or set CHROMIUM_PATH',
  promtool: "put Prometheus' promtool on the PATH (apt-get install prometheus, brew install prometheus, or the release archive from prometheus.io)",
  kubectl: 'install kubectl 1.27 or later (its kustomize renders `components:`); without it the manifests are rendered by the stand-in in system-tests/repo/kustomize.ts',
  'rabbitmq management API':
    'run `rabbitmq-plugins enable rabbitmq_management` on the local broker, or set RABBITMQ_MANAGEMENT_URL (the image testcontainers starts has it)',
}

export type Missing = { tool: Tool; why: string; howToGet: string; files: Set<string> }
export type Registry = Map<Tool, Missing>
// on globalThis: every test file and the preloaded report share this one registry
const registry = ((globalThis as { __shopMissingTools?: Registry }).__shopMissingTools ??= new Map())

/** The tools that were missing so far in this process, for the report at the end of the run. */
export const missingTools = (): Missing[] => [...registry.values()]

/** HARNESS_REQUIRE_TOOLS=1: a missing tool is an error, never a skip. */
export const toolsRequired = (env: Record<string, string | undefined> = process.env) => env.HARNESS_REQUIRE_TOOLS === '1'

/**
 * Notes that `file` needs `tool`, absent for `why`. Returns false (skip) or, where tools are
 * required, throws an error naming the tool and how to get it.
 */
export function absent(
  tool: Tool,
  why: string,
  file: string,
  { env = process.env, into = registry }: { env?: Record<string, string | undefined>; into?: Registry } = {},
): false {
  const howToGet = HOW_TO_GET[tool]
  file = relative(root, file)
  if (toolsRequired(env)) throw new Error(`${file} needs ${tool}: ${why}. To get it: ${howToGet}. (HARNESS_REQUIRE_TOOLS=1 makes this a failure, not a skip.)`)
  const entry = into.get(tool) ?? { tool, why, howToGet, files: new Set<string>() }
  entry.files.add(file)
  into.set(tool, entry)
  return false
}

/** The first of `names` found as an executable file on `path` (the PATH's format). */
export function onPath(names: string[], path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean))
    for (const name of names) {
      const candidate = join(dir, name)
      if (existsSync(candidate)) return candidate
    }
  return undefined
}

/**
 * The Deno binary the testkit runs services with: the project's own, from the `deno` npm package
 * (its install API resolves the platform package that carries the binary, no postinstall
 * needed), so every machine runs the version the lockfile pins. Only where npm has no build for
 * the platform does it fall back to a `deno` on the PATH.
 */
export function denoExecutable(): string {
  try {
    return (require('deno/install_api.cjs') as { runInstall(): string }).runInstall()
  } catch (e) {
    const fallback = onPath(['deno'])
    if (fallback) return fallback
    throw new Error(`no Deno binary: the deno package has none for this platform (${(e as Error).message}) and none is on the PATH`)
  }
}

/** Where a browser for playwright-core is, or undefined; the candidates in the order they are tried. */
export async function findChromium(env: Record<string, string | undefined> = process.env): Promise<{ path?: string; tried: string[] }> {
  if (env.CHROMIUM_PATH) return existsSync(env.CHROMIUM_PATH) ? { path: env.CHROMIUM_PATH, tried: [] } : { tried: [`CHROMIUM_PATH=${env.CHROMIUM_PATH}`] }
  const names = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']
  const system = onPath(names, env.PATH) ?? ['/Applications/Chromium.app/Contents/MacOS/Chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'].find(existsSync)
  if (system) return { path: system, tried: [] }
  // a browser `bunx playwright-core install chromium` downloaded into Playwright's cache
  const { chromium } = await import('playwright-core')
  const own = chromium.executablePath()
  return existsSync(own) ? { path: own, tried: [] } : { tried: [`${names.join(', ')} on the PATH`, own] }
}

/** The browser for a browser suite, or undefined when there is none (noted for the report). */
export async function chromiumFor(file: string): Promise<string | undefined> {
  const { path, tried } = await findChromium()
  if (path) return path
  absent('chromium', `no browser found (tried ${tried.join('; ')})`, file)
  return undefined
}

/** promtool's path for a suite, or undefined when it is not on the PATH (noted for the report). */
export function promtoolFor(file: string): string | undefined {
  const path = onPath(['promtool'])
  if (path) return path
  absent('promtool', 'promtool is not on the PATH', file)
  return undefined
}

/**
 * Whether this run's broker serves its management API, for the suites that list or close its
 * connections and delete its queues; when not, noted for the report.
 */
export async function managementApiFor(file: string): Promise<boolean> {
  const { startInfra } = await import('./infra.ts') // not at the top: the preloaded report needs none of it
  const infra = await startInfra()
  if (!infra.managementUrl) return absent('rabbitmq management API', `the broker from ${infra.source} has no management URL`, file)
  const { managementApi } = await import('./operator.ts')
  const { origin, headers } = managementApi(infra.managementUrl)
  try {
    const res = await fetch(`${origin}/api/overview`, { headers, signal: AbortSignal.timeout(5_000) })
    if (res.ok) return true
    return absent('rabbitmq management API', `${origin}/api/overview answered ${res.status}`, file)
  } catch (e) {
    return absent('rabbitmq management API', `${origin} does not answer (${(e as Error).message})`, file)
  }
}

/** The lines the run ends with: each missing tool, the files it skipped, and how to get it. */
export function missingToolsReport(missing: Missing[] = missingTools()): string[] {
  if (!missing.length) return []
  return [
    `[testkit] skipped for want of a tool (HARNESS_REQUIRE_TOOLS=1 turns these into failures):`,
    ...missing.map((m) => `  ${m.tool}: ${m.why}; skipped ${[...m.files].sort().join(', ')}. To get it: ${m.howToGet}.`),
  ]
}
