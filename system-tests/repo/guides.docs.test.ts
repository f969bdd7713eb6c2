import { describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

// The guides (docs/guides/) and CONTRIBUTING.md tell a newcomer what to open, run and call, so
// each of those must exist: every repository path they name (in backticks or in a code block),
// every `bun run X`, every package they name, every code name (a function, a constant, a type)
// in backticks, and, where a page says a name comes from a package (`x` from `@shop/y`, or a
// table row with the package in a cell), that package really exports it. A page lists the names
// it makes up for its walkthrough in a `<!-- hypothetical: ... -->` comment.
const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (path: string) => readFileSync(join(root, path), 'utf8')

const guides = readdirSync(join(root, 'docs/guides'))
  .filter((n) => n.endsWith('.md'))
  .map((n) => `docs/guides/${n}`)
  .sort()
const pages = [...guides, 'CONTRIBUTING.md']

/** The text outside fenced code blocks, fences kept as empty lines. */
const prose = (md: string) => md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ''))
const codeBlocks = (md: string) => [...md.matchAll(/^(```|~~~)[^\n]*\n([\s\S]*?)^\1/gm)].map((m) => m[2]!)
const inlineCode = (md: string) => [...prose(md).matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!)
const hypothetical = (md: string) => new Set((md.match(/<!-- hypothetical: ([^>]*?) -->/)?.[1] ?? '').split(/\s+/).filter(Boolean))

// --- what the repository has -------------------------------------------------------------------

const top = new Set(readdirSync(root).filter((n) => !['node_modules', '.git'].includes(n)))
const scripts = new Set(Object.keys(JSON.parse(read('package.json')).scripts))
const workspaces = (JSON.parse(read('package.json')) as { workspaces: { packages: string[] } }).workspaces.packages
const packages = new Map(
  workspaces.map((w) => {
    const pkg = JSON.parse(read(`${w}/package.json`)) as { name: string; exports?: Record<string, string> }
    return [pkg.name, { dir: w, exports: pkg.exports ?? {} }]
  }),
)

const sourcesUnder = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === 'node_modules' || e.name.startsWith('.') ? [] : sourcesUnder(`${dir}/${e.name}`)
      : /\.tsx?$/.test(e.name) && !e.name.endsWith('.test.ts') ? [`${dir}/${e.name}`] : [],
  )
/** Every source file of the workspaces but the tests themselves (this file's made-up names stay out), and the build files. */
const code = [...workspaces.flatMap(sourcesUnder), 'Dockerfile', 'compose.yml', 'deno.json'].map(read).join('\n')
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const inCode = (word: string) => new RegExp(`(?<![\\w$])${escape(word)}(?![\\w$])`).test(code)

/** The names a module exports, following `export * from` and `export { ... } from` to their files. */
function exportedBy(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file) || !existsSync(join(root, file))) return new Set()
  seen.add(file)
  const text = read(file)
  const names = new Set<string>()
  for (const m of text.matchAll(/^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|var|class|type|interface|enum)\s+([A-Za-z_$][\w$]*)/gm)) names.add(m[1]!)
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g))
    for (const n of m[1]!.split(',')) {
      const name = n.replace(/^\s*type\s+/, '').split(/\s+as\s+/).pop()!.trim()
      if (name) names.add(name)
    }
  for (const m of text.matchAll(/export\s+\*\s+from\s+'(\.[^']+)'/g)) for (const n of exportedBy(normalize(join(dirname(file), m[1]!)), seen)) names.add(n)
  return names
}

/** What `@shop/x` or `@shop/x/sub` exports; undefined when no workspace package has that entry. */
function exportsOf(specifier: string): Set<string> | undefined {
  const [, name, sub] = specifier.match(/^(@shop\/[\w-]+)(\/[\w/-]+)?$/) ?? []
  const pkg = name ? packages.get(name) : undefined
  const entry = pkg?.exports[sub ? `.${sub}` : '.']
  if (pkg && !sub && !entry) return new Set() // a workspace named as such, with no root entry (the example)
  return pkg && entry ? exportedBy(normalize(join(pkg.dir, entry))) : undefined
}

// --- the checks, one page at a time --------------------------------------------------------------

/** Repository paths a page names: in backticks, and anywhere in its code blocks. */
function pathsIn(md: string): string[] {
  const inline = inlineCode(md).filter((c) => /^[\w.*-]+(\/[\w.*-]*)*$/.test(c) && (c.includes('/') || /\.(md|json|yml|yaml|toml|ts|js|lock|sql)$/.test(c)))
  const inBlocks = codeBlocks(md).flatMap((b) => [...b.matchAll(/(?<![\w./<$-])([\w.-]+\/[\w./*-]*[\w*/])/g)].map((m) => m[1]!))
  return [...new Set([...inline, ...inBlocks])].filter((p) => top.has(p.split('/')[0]!))
}
const missing = (path: string) => (path.includes('*') ? new Bun.Glob(path).scanSync({ cwd: root, onlyFiles: false }).next().done : !existsSync(join(root, path)))

/** `name`, `name()`, `name(args)` or `a.b.c`: what a page asks the reader to call or use. */
const codeName = (c: string) => c.match(/^([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(?:\([^)]*\))?$/)?.[1]

/** Where a page says a name comes from a package: "`x`, `y` or `z` from `@shop/kit`", or a table row. */
function attributions(md: string): { name: string; from: string }[] {
  const text = prose(md)
  const inProse = [...text.replace(/\n(?!\n|\|)/g, ' ').matchAll(/((?:`[^`]+`(?:,\s*(?:or\s+|and\s+)?|\s+or\s+|\s+and\s+)?)+)\s+from\s+`(@shop\/[^`<]+)`/g)].flatMap((m) =>
    [...m[1]!.matchAll(/`([^`]+)`/g)].map((n) => ({ name: n[1]!, from: m[2]! })),
  )
  const inTables = text
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .flatMap((row) => {
      const cells = row.split('|').slice(1, -1).map((c) => c.trim())
      const from = cells.map((c) => c.match(/^`(@shop\/[^`<]+)`$/)?.[1]).find(Boolean)
      return from ? [...cells[0]!.matchAll(/`([^`]+)`/g)].map((n) => ({ name: n[1]!, from })) : []
    })
  return [...inProse, ...inTables]
}

/** Everything a page names that does not exist, as `page: what`. */
export function problems(page: string, md: string): string[] {
  const madeUp = hypothetical(md)
  const found: string[] = []
  for (const path of pathsIn(md)) if (missing(path)) found.push(`${page}: no path ${path}`)
  for (const m of md.matchAll(/\bbun run ([A-Za-z][\w:-]*)(?![\w/.])/g)) if (!scripts.has(m[1]!)) found.push(`${page}: no script bun run ${m[1]}`)
  for (const c of inlineCode(md)) {
    if (c.startsWith('@shop/') && !c.includes('<') && !exportsOf(c)) found.push(`${page}: no package entry ${c}`)
    const name = codeName(c)
    if (!name || madeUp.has(name) || top.has(name)) continue // a top-level file such as `Dockerfile` is a path
    const last = name.split('.').pop()!
    if (!inCode(name) && !inCode(last)) found.push(`${page}: no code name ${name}`)
  }
  for (const { name: written, from } of attributions(md)) {
    const name = codeName(written)
    if (!name || madeUp.has(name) || name.includes('.')) continue
    if (!exportsOf(from)?.has(name)) found.push(`${page}: ${from} does not export ${name}`)
  }
  return [...new Set(found)]
}

describe('the guides and CONTRIBUTING.md', () => {
  it('when docs/guides is read, then it has its index and the six guides, and the index links to each', () => {
    expect(guides).toEqual(
      [
        'README.md',
        'add-a-configuration-variable.md',
        'add-a-route.md',
        'add-a-service.md',
        'add-an-event.md',
        'debug-a-failing-suite.md',
        'write-a-test.md',
      ].map((n) => `docs/guides/${n}`),
    )
    const index = read('docs/guides/README.md')
    expect(guides.filter((g) => g !== 'docs/guides/README.md' && !index.includes(`](${g.slice('docs/guides/'.length)})`))).toEqual([])
    expect(read('CONTRIBUTING.md')).toContain('](docs/guides/README.md)')
  })

  it('when a page names a path, a script, a package, or a code name to use, then the repository has it', () => {
    expect(pages.flatMap((page) => problems(page, read(page)))).toEqual([])
  })

  it('when the guides name the testkit and kit helpers, then the check has read them and their packages export them', () => {
    const credited = pages.flatMap((page) => attributions(read(page)).map((a) => `${codeName(a.name)} from ${a.from}`))
    expect(credited).toEqual(
      expect.arrayContaining([
        'eventually from @shop/testkit',
        'captureEvents from @shop/testkit',
        'isolate from @shop/testkit',
        'expectSchema from @shop/testkit/expect',
        'notFound from @shop/kit',
      ]),
    )
    const named = new Set(pages.flatMap((page) => inlineCode(read(page)).map(codeName)))
    for (const name of ['eventually', 'captureEvents', 'expectSchema', 'eventCatalog', 'eventConstructor', 'createOutbox', 'events.add', 'namedSchemas', 'connectService'])
      expect(named).toContain(name)
  })

  it('when a page names what does not exist, then the check names each one (it can fail)', () => {
    const page = [
      'Wait with `eventuallyMaybe` from `@shop/testkit`, then call `frobnicateOutbox()`.',
      'Open `kit/data/inbox.ts` and run `bun run test:everything`.',
      '| `expectSchema` | `@shop/testkit` | a real name, credited to the wrong package |',
      'Import `@shop/testkit/nowhere`. `stock.low` is allowed: <!-- hypothetical: stock.low -->',
      '```sh',
      'bun product/src/absent.ts',
      '```',
    ].join('\n')
    expect(problems('made-up.md', page).sort()).toEqual(
      [
        'made-up.md: no path kit/data/inbox.ts',
        'made-up.md: no path product/src/absent.ts',
        'made-up.md: no script bun run test:everything',
        'made-up.md: no package entry @shop/testkit/nowhere',
        'made-up.md: no code name eventuallyMaybe',
        'made-up.md: no code name frobnicateOutbox',
        'made-up.md: @shop/testkit does not export eventuallyMaybe',
        'made-up.md: @shop/testkit does not export expectSchema',
      ].sort(),
    )
  })
})
