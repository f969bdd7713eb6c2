import { describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Scopes } from '@shop/contracts'
import { routeApps } from '../api/route-apps.ts'

// Claims the docs make about the code, held to the code: which scope each route needs (from the
// apps' own route tables), which folders the Dockerfile copies, and that a measured figure is
// stated once, in docs/performance.md, and linked from everywhere else. Each checker is a pure
// function of the text, so each is also fed a wrong claim and must catch it.
const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (path: string) => readFileSync(join(root, path), 'utf8')
const docPages = (dir = 'docs'): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? docPages(`${dir}/${e.name}`) : e.name.endsWith('.md') ? [`${dir}/${e.name}`] : [],
  )
const pages = ['README.md', 'CHANGELOG.md', ...docPages()].sort()

/** The text outside fenced code blocks, fences kept as empty lines so line numbers still match. */
const prose = (md: string) => md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ''))
const backticked = (text: string) => [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!)

type Table = { heading: string; header: string[]; rows: string[][] }
/** Markdown tables with the heading they stand under; cells split on `|` that is not escaped. */
function tablesOf(md: string): Table[] {
  const tables: Table[] = []
  let heading = ''
  let current: Table | undefined
  for (const line of prose(md).split('\n')) {
    if (/^#{1,6}\s/.test(line)) heading = line.replace(/^#+\s*/, '')
    if (!line.startsWith('|')) {
      current = undefined
      continue
    }
    const cells = line.replace(/^\||\|\s*$/g, '').split(/(?<!\\)\|/).map((c) => c.trim())
    if (!current) tables.push((current = { heading, header: cells.map((c) => c.toLowerCase()), rows: [] }))
    else if (!cells.every((c) => /^:?-+:?$/.test(c))) current.rows.push(cells)
  }
  return tables
}

// ---------------------------------------------------------------------------------------------
// The route table, as the apps build it: every route with the scopes its `access` declares
// ([] for anyone). The apps need their route tables only, so nothing is connected behind them.

type Service = 'product' | 'order' | 'bff'
type Route = { service: Service; method: string; path: string; scopes: string[] }

function routeTable(): Route[] {
  const apps = routeApps('claims')
  type Hooks = { access?: { scopes?: string[] }; detail?: { hide?: boolean; 'x-access'?: { scopes?: string[] } } } | undefined
  // the storefront's files (hidden from the document, and routed only once bff/web is built) are no API
  const storefrontFiles = (r: { path: string; hooks: unknown }) => r.path === '/*' && (r.hooks as Hooks)?.detail?.hide === true
  return Object.entries(apps).flatMap(([service, app]) =>
    app.routes.filter((r) => !storefrontFiles(r)).map((r) => {
      // the route's `access`, as the kit's macro hands it to the OpenAPI document (its `security`)
      const hooks = r.hooks as Hooks
      const scopes = (hooks?.detail?.['x-access'] ?? hooks?.access)?.scopes ?? []
      return { service: service as Service, method: r.method, path: r.path, scopes: [...scopes].sort() }
    }),
  )
}

const METHOD = /^(GET|HEAD|POST|PUT|PATCH|DELETE) /
/** A route as the docs write it: `GET /products/:id`, `/orders` (every method), `GET /docs*` (a path and all below it); a query is dropped. */
const isRouteText = (code: string) => /^((GET|HEAD|POST|PUT|PATCH|DELETE) )?\/[^\s]*$/.test(code)
function matching(text: string, routes: Route[]): Route[] {
  const method = text.match(METHOD)?.[1]
  const path = text.replace(METHOD, '').replace(/\?.*$/, '')
  const fits = (p: string) => (path.endsWith('*') && !p.endsWith('*') ? p.startsWith(path.slice(0, -1)) : p === path)
  return routes.filter((r) => (!method || r.method === method) && fits(r.path))
}
const scopesIn = (text: string) => [...new Set(backticked(text).filter((c) => c in Scopes))].sort()
const key = (r: Route) => `${r.service} ${r.method} ${r.path}`
const shown = (scopes: string[]) => (scopes.length ? scopes.join(' ') : 'anyone')

/**
 * Per-service route tables (a heading naming the service; columns `route` and `scope`): each route
 * named exists, the scope cell names exactly the scopes it needs (`anyone` for none), and every
 * route of every service is in one.
 */
function routeTableProblems(docs: Record<string, string>, routes: Route[]): string[] {
  const problems: string[] = []
  const covered = new Set<string>()
  for (const [page, md] of Object.entries(docs))
    for (const table of tablesOf(md)) {
      const [routeCol, scopeCol] = [table.header.indexOf('route'), table.header.indexOf('scope')]
      if (routeCol < 0 || scopeCol < 0) continue
      const service = (['product', 'order', 'bff'] as const).find((s) => new RegExp(`\\b${s}\\b`).test(table.heading))
      if (!service) {
        problems.push(`${page}: a route table under "${table.heading}", which names no service`)
        continue
      }
      const own = routes.filter((r) => r.service === service)
      for (const row of table.rows) {
        const cell = row[scopeCol] ?? ''
        const said = scopesIn(cell)
        if (!said.length && !/\banyone\b/.test(cell)) problems.push(`${page}: ${row[routeCol]}: the scope cell names no scope and not "anyone"`)
        for (const text of backticked(row[routeCol] ?? '').filter(isRouteText)) {
          const found = matching(text, own)
          if (!found.length) problems.push(`${page}: ${service} has no route ${text}`)
          for (const r of found) {
            covered.add(key(r))
            if (shown(r.scopes) !== shown(said)) problems.push(`${page}: ${service} ${text} needs ${shown(r.scopes)}, the page says ${shown(said)}`)
          }
        }
      }
    }
  for (const r of routes) if (!covered.has(key(r))) problems.push(`${key(r)} (${shown(r.scopes)}) is in no route table`)
  return problems
}

/**
 * Tables by scope (columns `scope` and `routes`): the routes a scope's row names are exactly the
 * routes that accept that scope, in whichever service; the `anyone` row names only routes that
 * need none.
 */
function scopeTableProblems(docs: Record<string, string>, routes: Route[]): string[] {
  const problems: string[] = []
  // the bff's forwards (`/products/*`, and its POST /products beside product's) take what the service behind needs
  const own = routes.filter((r) => !(r.service === 'bff' && (r.path.endsWith('*') || routes.some((o) => o.service !== 'bff' && o.method === r.method && o.path === r.path))))
  for (const [page, md] of Object.entries(docs))
    for (const table of tablesOf(md)) {
      const [scopeCol, routesCol] = [table.header.indexOf('scope'), table.header.indexOf('routes')]
      if (scopeCol < 0 || routesCol < 0) continue
      for (const row of table.rows) {
        const [scope] = scopesIn(row[scopeCol] ?? '')
        const anyone = !scope && /\banyone\b/.test(row[scopeCol] ?? '')
        if (!scope && !anyone) {
          problems.push(`${page}: a scope row "${row[scopeCol]}" names no scope and not "anyone"`)
          continue
        }
        const named = new Set<string>()
        for (const text of backticked(row[routesCol] ?? '').filter(isRouteText)) {
          const found = matching(text, own)
          if (!found.length) problems.push(`${page}: no service has a route ${text}`)
          for (const r of found) {
            named.add(key(r))
            if (anyone ? r.scopes.length : !r.scopes.includes(scope!)) problems.push(`${page}: ${key(r)} needs ${shown(r.scopes)}, the page lists it under ${scope ?? 'anyone'}`)
          }
        }
        if (scope)
          for (const r of own.filter((r) => r.scopes.includes(scope) && !named.has(key(r))))
            problems.push(`${page}: ${key(r)} accepts ${scope}, the page's row for it does not list it`)
      }
    }
  return problems
}

/** Prose that says "`ROUTE` needs `scope`": the route exists and accepts every scope named. */
function proseScopeProblems(docs: Record<string, string>, routes: Route[]): string[] {
  const problems: string[] = []
  for (const [page, md] of Object.entries(docs))
    for (const m of prose(md).replace(/\n(?!\n)/g, ' ').matchAll(/`((?:GET|HEAD|POST|PUT|PATCH|DELETE) \/[^`]*)`[^.;:|]*?\bneeds?\b([^.;|]*)/g)) {
      const found = matching(m[1]!, routes)
      if (!found.length) problems.push(`${page}: no service has a route ${m[1]}`)
      for (const scope of scopesIn(m[2]!))
        for (const r of found.filter((r) => !r.scopes.includes(scope))) problems.push(`${page}: ${key(r)} needs ${shown(r.scopes)}, the page says ${scope}`)
    }
  return problems
}

describe('the scopes the docs give each route', () => {
  const routes = routeTable()
  const docs = Object.fromEntries(pages.map((p) => [p, read(p)]))

  it('when the apps are built, then their route tables have the routes the docs are about', () => {
    expect(routes.find((r) => r.service === 'order' && r.method === 'DELETE' && r.path === '/orders/:id')?.scopes).toEqual(['orders:write'])
    expect(routes.filter((r) => r.service === 'bff' && r.path === '/order-summary/:productId')).toHaveLength(1)
  })

  it("when a page's route table names a route, then with the scopes the route declares, and every route is in one", () => {
    expect(routeTableProblems(docs, routes)).toEqual([])
  })

  it('when a page lists the routes a scope opens, then exactly the routes that accept it', () => {
    expect(scopeTableProblems(docs, routes)).toEqual([])
  })

  it('when a page says a route needs a scope, then the route accepts that scope', () => {
    expect(proseScopeProblems(docs, routes)).toEqual([])
  })

  it('when a page claims a wrong scope, then each checker catches it', () => {
    const wrongTable = '### order\n\n| route | scope | what |\n| --- | --- | --- |\n| `DELETE /orders/:id` | `orders:read` | cancels |\n'
    expect(routeTableProblems({ 'wrong.md': wrongTable }, routes)).toContain('wrong.md: order DELETE /orders/:id needs orders:write, the page says orders:read')
    const wrongScopes = '| scope | routes |\n| --- | --- |\n| `products:write` | `POST /products`, `GET /products` |\n'
    expect(scopeTableProblems({ 'wrong.md': wrongScopes }, routes)).toEqual([
      'wrong.md: product GET /products needs anyone, the page lists it under products:write',
      'wrong.md: product PATCH /products/:id accepts products:write, the page\'s row for it does not list it',
      'wrong.md: product DELETE /products/:id accepts products:write, the page\'s row for it does not list it',
    ])
    expect(proseScopeProblems({ 'wrong.md': 'Cancelling, `DELETE /orders/:id` needs `orders:read`.' }, routes)).toEqual([
      'wrong.md: order DELETE /orders/:id needs orders:write, the page says orders:read',
    ])
  })
})

// ---------------------------------------------------------------------------------------------
// The Dockerfile's COPY lines, stage by stage: the folders each stage copies.

type Stage = 'build' | 'final'
function copiedFolders(dockerfile: string): Record<Stage, string[]> {
  const stages: string[][] = []
  for (const line of dockerfile.replace(/\\\n/g, ' ').split('\n')) {
    if (/^FROM\s/i.test(line)) stages.push([])
    const copy = line.match(/^COPY\s+(.*)$/i)
    if (!copy) continue
    const words = copy[1]!.trim().split(/\s+/)
    const from = words.some((w) => w.startsWith('--from='))
    const sources = words.filter((w) => !w.startsWith('--')).slice(0, -1).map((s) => (from ? s.replace(/^\/app\//, '') : s).replace(/\/$/, ''))
    const isFolder = (s: string) => s === '$SERVICE' || (existsSync(join(root, s)) && statSync(join(root, s)).isDirectory())
    stages.at(-1)!.push(...sources.filter(isFolder))
  }
  return { build: [...new Set(stages[0])].sort(), final: [...new Set(stages.at(-1))].sort() }
}

/** Tables with columns `stage` and `copies`: the folders (backticked, ending in `/`) each stage's row names. */
function dockerCopyProblems(docs: Record<string, string>, copied: Record<Stage, string[]>): string[] {
  const problems: string[] = []
  const seen = new Set<Stage>()
  for (const [page, md] of Object.entries(docs))
    for (const table of tablesOf(md)) {
      const [stageCol, copiesCol] = [table.header.indexOf('stage'), table.header.indexOf('copies')]
      if (stageCol < 0 || copiesCol < 0) continue
      for (const row of table.rows) {
        const stage = (['build', 'final'] as const).find((s) => row[stageCol]!.toLowerCase().includes(s))
        if (!stage) continue
        seen.add(stage)
        const said = [...new Set(backticked(row[copiesCol] ?? '').filter((c) => c.endsWith('/')).map((c) => c.slice(0, -1)))].sort()
        if (said.join() !== copied[stage].join()) problems.push(`${page}: the ${stage} stage copies ${copied[stage].join(', ')}; the page says ${said.join(', ')}`)
      }
    }
  for (const stage of ['build', 'final'] as const) if (!seen.has(stage)) problems.push(`no page has a stage | copies table with the ${stage} stage`)
  return problems
}

describe("the Dockerfile's copied folders in the docs", () => {
  const copied = copiedFolders(read('Dockerfile'))
  const docs = Object.fromEntries(pages.map((p) => [p, read(p)]))

  it('when the Dockerfile is read, then each stage copies the shared workspaces and the service', () => {
    for (const stage of ['build', 'final'] as const) expect(copied[stage]).toEqual(expect.arrayContaining(['$SERVICE', 'contracts', 'kit']))
  })

  it('when a page says what each stage of the image copies, then exactly the folders its COPY lines copy', () => {
    expect(dockerCopyProblems(docs, copied)).toEqual([])
  })

  it('when a page names a folder the image does not copy, or leaves one out, then it is caught', () => {
    const wrong = '| stage | copies |\n| --- | --- |\n| build | `patches/`, `contracts/`, `kit/`, `tools/`, `$SERVICE/` |\n| final | `contracts/`, `kit/`, `$SERVICE/` |\n'
    expect(dockerCopyProblems({ 'wrong.md': wrong }, copied)).toEqual([
      `wrong.md: the build stage copies ${copied.build.join(', ')}; the page says $SERVICE, contracts, kit, patches, tools`,
      `wrong.md: the final stage copies ${copied.final.join(', ')}; the page says $SERVICE, contracts, kit`,
    ])
  })
})

// ---------------------------------------------------------------------------------------------
// Measured figures live in docs/performance.md, with the hardware and the command that gives
// them; a decision record may keep the measurements it was decided on. Every other page links
// there rather than repeating a number that would drift apart from it.

const HOMES = ['docs/performance.md', /^docs\/decisions\//]
// generated from each service's config.ts: its figures are the defaults, not measurements
const GENERATED = ['docs/configuration.md']
/** Memory sizes, rates and times in ms; a period or a wait the code sets (`every 500 ms`, `up to 5 ms`) is no measurement. */
const FIGURE = /(?<![\w.,])(\d[\d,.]*(?:\s?-\s?\d[\d,.]*)?)\s?(KB|KiB|MB|MiB|GB|GiB|Mi|Gi|(?:orders|requests|req|messages|reads|writes)?\/s|ms)(?![\w/])/g
const PERIOD = /\b(every|up to|waits|within|after)\s$/

type Figure = { page: string; line: number; figure: string; before: string }
function figuresOutsideHome(docs: Record<string, string>): Figure[] {
  const found: Figure[] = []
  for (const [page, md] of Object.entries(docs)) {
    if (GENERATED.includes(page) || HOMES.some((h) => (typeof h === 'string' ? h === page : h.test(page)))) continue
    prose(md)
      .split('\n')
      .forEach((text, i) => {
        const outsideCode = text.replace(/`[^`\n]*`/g, (c) => (/^`[A-Z][A-Z0-9_]+`$/.test(c) ? c : ' '.repeat(c.length)))
        for (const m of outsideCode.matchAll(FIGURE)) {
          const before = outsideCode.slice(0, m.index)
          if (m[2] === 'ms' && PERIOD.test(before)) continue
          found.push({ page, line: i + 1, figure: `${m[1]} ${m[2]}`.replace(/\s+/g, ' '), before })
        }
      })
  }
  return found
}

const configPage = read('docs/configuration.md')
const manifestMemory = new Set(
  (['product', 'order', 'bff'] as const).flatMap((s) => [...read(`deploy/k8s/base/${s}/deployment.yaml`).matchAll(/memory: (\d+)Mi/g)].map((m) => `${m[1]} Mi`)),
)
/**
 * The repeats that are settings, each held to where it is set: a variable's default given beside
 * it, as the generated configuration page gives it; the Deployments' memory quoted in the
 * Kubernetes page; the storefront's size budget, as its test asserts it.
 */
const allowed: { why: string; holds: (f: Figure) => boolean }[] = [
  {
    why: '`VARIABLE` (its default), as docs/configuration.md gives it',
    holds: (f) => {
      const variable = f.before.match(/`([A-Z][A-Z0-9_]+)`\s*\($/)?.[1]
      return !!variable && configPage.split('\n').some((l) => l.startsWith(`| \`${variable}\``) && l.includes(`(${f.figure})`))
    },
  },
  { why: "a Deployment's memory, as deploy/k8s/base sets it", holds: (f) => f.page === 'docs/kubernetes.md' && manifestMemory.has(f.figure) },
  {
    why: "the storefront's size budget, as its browser suite asserts it",
    holds: (f) => f.page === 'docs/storefront.md' && f.figure === '100 KB' && read('system-tests/storefront/storefront.browser.test.ts').includes('toBeLessThan(100 * 1024)'),
  },
]
const unexplained = (figures: Figure[]) => figures.filter((f) => !allowed.some((a) => a.holds(f))).map((f) => `${f.page}:${f.line}: ${f.figure}`)

describe('figures stated once, in docs/performance.md', () => {
  const docs = Object.fromEntries(pages.map((p) => [p, read(p)]))

  it('when a page other than performance.md or a decision record gives a measured figure, then it is a setting held to where it is set', () => {
    expect(unexplained(figuresOutsideHome(docs))).toEqual([])
  })

  it('when a page repeats a measurement, or quotes a setting wrongly, then it is caught', () => {
    const wrong = {
      'README.md': 'One replica took 1,566 orders/s and held 1,000/s at p99 57 ms, peak 157 MB; polls every 500 ms.',
      'docs/security.md': 'A body over `MAX_BODY_BYTES` (64 KiB) gets 413, one over `MAX_BODY_BYTES` (32 KiB) too.',
      'docs/kubernetes.md': 'Requests are 160 Mi and 999 Mi.',
    }
    expect(unexplained(figuresOutsideHome(wrong))).toEqual([
      'README.md:1: 1,566 orders/s',
      'README.md:1: 1,000 /s',
      'README.md:1: 57 ms',
      'README.md:1: 157 MB',
      'docs/security.md:1: 32 KiB',
      'docs/kubernetes.md:1: 999 Mi',
    ])
  })
})
