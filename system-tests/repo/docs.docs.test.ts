import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Value } from '@sinclair/typebox/value'
import { Order, namedSchemas } from '@shop/contracts'
import { chromium } from 'playwright-core'
import { chromiumFor, isolate, spawnService, mintToken, type Isolated, type ServiceProcess } from '@shop/testkit'
import { configurationPage, configurationPageWithTables, configurationProblems, envReads } from '@shop/tools/config-docs'

// The documentation tested like code: README.md, CHANGELOG.md and docs/ must say what the code
// does. Links and anchors resolve, the commands and paths they name exist, the quick start runs
// against real services, the configuration page is the generator's output, the Mermaid diagrams
// render, and the k6 commands are complete.
const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (path: string) => readFileSync(join(root, path), 'utf8')

const docPages = (dir = 'docs'): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? docPages(`${dir}/${e.name}`) : e.name.endsWith('.md') ? [`${dir}/${e.name}`] : [],
  )
const pages = ['README.md', 'CHANGELOG.md', 'CONTRIBUTING.md', ...docPages()].sort()

/** The text outside fenced code blocks, fences kept as empty lines so line numbers still match. */
const prose = (md: string) => md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ''))
/** Fenced blocks of a language, with what stands right before each (for `<!-- runnable -->`). */
const fenced = (md: string, lang: string) =>
  [...md.matchAll(new RegExp(`(^.*\\n)?\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\``, 'gm'))].map((m) => ({ before: m[1] ?? '', code: m[2]! }))
const inlineCode = (md: string) => [...prose(md).matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!)

/** GitHub's heading anchors: lower case, punctuation dropped, each space a hyphen, repeats numbered. */
function anchorsOf(md: string): Set<string> {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  for (const m of prose(md).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const text = m[1]!.replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    anchors.add(n ? `${base}-${n}` : base)
  }
  return anchors
}

const links = (md: string) =>
  [...prose(md).replace(/`[^`\n]*`/g, '').matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!)

describe('the docs', () => {
  it('when README.md is read, then it is a front page of at most 200 lines without dates, commit hashes, issue numbers or session notes', () => {
    const readme = read('README.md')
    expect(readme.split('\n').length).toBeLessThanOrEqual(200)
    const found = [
      ...(readme.match(/\b20\d\d-\d\d-\d\d\b/g) ?? []),
      ...(readme.match(/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b/g) ?? []),
      ...(readme.match(/\bissues? #?\d+|#\d+\b/gi) ?? []),
      ...(readme.match(/\b(this|that|third|second|first|each|every|next|last) (session|machine)\b|\bsessions?\b/gi) ?? []),
    ]
    expect(found).toEqual([])
  })

  it('when a page links to a file or a heading, then the file exists and has the heading', () => {
    const broken: string[] = []
    for (const page of pages) {
      for (const target of links(read(page))) {
        if (/^[a-z]+:/i.test(target)) continue // http(s), mailto: not this repository's
        const [path, anchor] = target.split('#') as [string, string | undefined]
        const file = path ? normalize(join(dirname(page), path)) : page
        if (!existsSync(join(root, file))) {
          broken.push(`${page}: ${target} (no ${file})`)
          continue
        }
        if (anchor !== undefined && !anchorsOf(read(file)).has(anchor)) broken.push(`${page}: ${target} (no heading #${anchor} in ${file})`)
      }
    }
    expect(broken).toEqual([])
  })

  it('when a page is in docs/, then README.md, CONTRIBUTING.md, the decisions index or the guides index leads to it', () => {
    const reached = new Set(
      ['README.md', 'CONTRIBUTING.md', 'docs/decisions/README.md', 'docs/guides/README.md'].flatMap((from) => links(read(from)).map((l) => normalize(join(dirname(from), l.split('#')[0]!)))),
    )
    expect(docPages().filter((p) => !reached.has(p))).toEqual([])
  })

  it('when a page names `bun run X` or `deno task X`, then X is a script of package.json or a task of deno.json', () => {
    const scripts = Object.keys(JSON.parse(read('package.json')).scripts)
    const tasks = Object.keys(JSON.parse(read('deno.json')).tasks)
    const missing = pages.flatMap((page) => {
      const text = read(page)
      return [
        ...[...text.matchAll(/\bbun run ([A-Za-z][\w:-]*)(?![\w/.])/g)].map((m) => m[1]!).filter((s) => !scripts.includes(s)).map((s) => `${page}: bun run ${s}`),
        ...[...text.matchAll(/\bdeno task ([A-Za-z][\w:-]*)/g)].map((m) => m[1]!).filter((t) => !tasks.includes(t)).map((t) => `${page}: deno task ${t}`),
      ]
    })
    expect(missing).toEqual([])
  })

  it('when a page names a repository path in backticks, then it exists (a glob matches something)', () => {
    // made by running things, never committed
    const generated = ['.shop-dev/', '.env', 'system-tests/load/results/', 'http/http-client.private.env.json', 'bff/web/dist']
    const top = new Set(readdirSync(root).filter((n) => !['node_modules', '.git'].includes(n)))
    const missing = pages.flatMap((page) =>
      inlineCode(read(page))
        .filter((c) => /^[\w.*-]+(\/[\w.*-]*)*$/.test(c) && (c.includes('/') || /\.(md|json|yml|yaml|toml|ts|js|lock)$/.test(c)))
        .filter((c) => top.has(c.split('/')[0]!) && !generated.some((g) => c.startsWith(g)))
        .filter((c) => (c.includes('*') ? new Bun.Glob(c).scanSync({ cwd: root, onlyFiles: false }).next().done : !existsSync(join(root, c))))
        .map((c) => `${page}: ${c}`),
    )
    expect(missing).toEqual([])
  })

  it("when the API page lists the named schemas, then it lists every one of contracts' namedSchemas", () => {
    const list = read('docs/api.md').match(/The contracts have names[\s\S]*?components\.schemas/)?.[0] ?? ''
    const names = [...new Set(Object.values(namedSchemas).flatMap((group) => Object.keys(group)))]
    expect(names.filter((n) => !list.includes(`\`${n}\``))).toEqual([])
  })

  it('when a metric or an alert is named, then the code has it; every metric and alert of the code is in the observability page', () => {
    const sourcesUnder = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? (['node_modules', 'test'].includes(e.name) ? [] : sourcesUnder(`${dir}/${e.name}`)) : e.name.endsWith('.ts') ? [read(`${dir}/${e.name}`)] : [],
      )
    const sources = ['kit', 'order/src', 'product/src'].flatMap(sourcesUnder)
    const inCode = new Set(sources.flatMap((s) => [...s.matchAll(/(?:name:\s*|\.(?:counter|gauge|histogram)\(\s*)'((?:shop|http)_[a-z_]+)'/g)].map((m) => m[1]!)))
    const databases = new Set(['shop_order', 'shop_product'])
    const named = pages.flatMap((page) =>
      [...read(page).matchAll(/\b(shop_[a-z_]*[a-z])\b/g)].map((m) => m[1]!).filter((n) => !databases.has(n)).map((n) => ({ page, n })),
    )
    expect(named.filter(({ n }) => !inCode.has(n)).map(({ page, n }) => `${page}: ${n}`)).toEqual([])
    const observability = read('docs/observability.md')
    expect([...inCode].filter((n) => !observability.includes(`\`${n}`))).toEqual([])
    const alerts = [...read('deploy/prometheus/alerts.yml').matchAll(/- alert: (\w+)/g)].map((m) => m[1]!)
    expect(alerts.length).toBeGreaterThan(0)
    expect(alerts.filter((a) => !observability.includes(`\`${a}\``))).toEqual([])
  })
})

describe('the configuration page', () => {
  it('when a service, the testkit, a suite, a tool or a k6 script reads a variable, then it is described, and every description names a variable that is read', () => {
    expect(configurationProblems()).toEqual([])
  })

  it('when any source file of the repository reads a variable, then the page names it', () => {
    // beyond the folders docs:config reads: a suite or a tool added anywhere is held to the page too
    const sources = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? ['node_modules', '.git', '.shop-dev'].includes(e.name) ? [] : sources(dir ? `${dir}/${e.name}` : e.name)
          : /\.(ts|js|mjs)$/.test(e.name) ? [dir ? `${dir}/${e.name}` : e.name] : [],
      )
    const reading = /(?:process\.env|Bun\.env|__ENV)\.([A-Z][A-Z0-9_]*)|Deno\.env\.get\(\s*['"]([A-Z][A-Z0-9_]*)['"]/g
    const system = new Set(['PATH', 'HOME', 'TMPDIR'])
    const page = read(configurationPage)
    // the generator spells out the reads it looks for, without making any
    const files = sources('').filter((f) => f !== 'tools/src/config-docs.ts')
    expect(files).toContain('system-tests/clusters/world.ts')
    const unnamed = files.flatMap((file) =>
      [...read(file).matchAll(reading)]
        .map((m) => (m[1] ?? m[2])!)
        .filter((name) => !system.has(name) && !page.includes(`| \`${name}\` |`))
        .map((name) => `${file}: ${name}`),
    )
    expect([...new Set(unnamed)]).toEqual([])
  })

  it('when docs/configuration.md is read, then its tables are what `bun run docs:config` writes (run it after changing a variable)', () => {
    const page = read(configurationPage)
    expect(page).toBe(configurationPageWithTables(page))
  })
})

describe('commands in comments and pages', () => {
  it('when a page or a k6 script shows `k6 run`, then the command names every -e the scripts require', () => {
    const required = envReads('k6').filter((r) => r.required).map((r) => r.name)
    expect(required).toContain('JWT_PRIVATE_JWK')
    const k6Dir = 'system-tests/load/k6'
    const scripts = readdirSync(join(root, k6Dir)).filter((f) => f.endsWith('.js')).map((f) => `${k6Dir}/${f}`)
    // one command per line, continuation lines joined; in scripts only their comments count
    const commands = (text: string) =>
      text
        .replace(/\\\n(\s*\/\/)?/g, ' ')
        .split('\n')
        .filter((l) => /\bk6 run\b.*\.js\b/.test(l))
    const found = [
      ...pages.flatMap((p) => commands(read(p)).map((c) => ({ where: p, c }))),
      ...scripts.flatMap((s) => commands(read(s).split('\n').filter((l) => l.trim().startsWith('//')).join('\n')).map((c) => ({ where: s, c }))),
    ]
    expect(found.some((f) => f.where.startsWith('docs/'))).toBe(true)
    expect(found.flatMap(({ where, c }) => required.filter((name) => !c.includes(`-e ${name}=`)).map((name) => `${where}: ${c.trim()} lacks -e ${name}`))).toEqual([])
  })

  it("when bench.ts's header shows its usage, then it names every option the bench takes", () => {
    const bench = read('system-tests/load/bench.ts')
    const header = bench.slice(0, bench.indexOf('import '))
    const options = bench.slice(bench.indexOf('parseArgs({'), bench.indexOf('})', bench.indexOf('parseArgs({')))
    const names = [...options.matchAll(/^\s+'?([a-z][a-z-]*)'?: \{ type:/gm)].map((m) => m[1]!)
    expect(names.length).toBeGreaterThan(5)
    expect(names.filter((n) => !header.includes(`--${n}`))).toEqual([])
    expect(header).toContain('autocannon')
    expect(header).toContain('open-loop')
  })
})

const browserPath = await chromiumFor(import.meta.path)
describe('the diagrams', () => {
  it.skipIf(!browserPath)('when every Mermaid diagram of the docs is rendered by Mermaid itself in Chromium, then none fails and nothing is fetched', async () => {
    const diagrams = pages.flatMap((page) => fenced(read(page), 'mermaid').map((d, i) => ({ where: `${page} #${i + 1}`, text: d.code })))
    expect(diagrams.length).toBeGreaterThan(1)
    const bundle = readFileSync(createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js'), 'utf8')
    const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] })
    try {
      const page = await browser.newPage()
      const fetched: string[] = []
      await page.route('**/*', (route) => {
        fetched.push(route.request().url())
        return route.abort()
      })
      await page.setContent('<!doctype html><html><body></body></html>')
      await page.addScriptTag({ content: bundle })
      const failures = await page.evaluate(async (list) => {
        const mermaid = (window as unknown as { mermaid: { initialize(c: object): void; render(id: string, text: string): Promise<{ svg: string }> } }).mermaid
        mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' })
        const failed: string[] = []
        for (const [i, d] of list.entries()) {
          try {
            const { svg } = await mermaid.render(`diagram${i}`, d.text)
            if (!svg.includes('<svg') || /Syntax error/.test(svg)) failed.push(`${d.where}: rendered no diagram`)
          } catch (err) {
            failed.push(`${d.where}: ${(err as Error).message ?? String(err)}`)
          }
        }
        return failed
      }, diagrams)
      expect(failures).toEqual([])
      expect(fetched).toEqual([])
    } finally {
      await browser.close()
    }
  })
})

describe("the README's quick start, against freshly started services", () => {
  let iso: Isolated
  const running: ServiceProcess[] = []
  const readme = read('README.md')

  beforeAll(async () => {
    iso = await isolate('docs')
    // as `bun run start` runs them: processes, every limit as shipped
    const product = await spawnService('product', iso.env('product', {}, { limits: 'shipped' }))
    running.push(product)
    running.push(await spawnService('order', iso.env('order', { PRODUCT_URL: product.url }, { limits: 'shipped' })))
  }, 30_000)
  afterAll(async () => {
    for (const p of running.reverse()) await p.stop()
    await iso?.cleanup()
  })

  it('when the runnable blocks are run with the tokens bun run start prints, then the order they place ends confirmed, as the README shows', async () => {
    const [product, order] = running
    const blocks = fenced(readme, 'sh').filter((b) => b.before.includes('<!-- runnable -->'))
    expect(blocks.length).toBeGreaterThan(0)
    // the two tokens bun run start prints (tools/src/dev-keys.ts devTokens), minted with this run's key
    const staff = await mintToken({ sub: 'staff-1', scope: 'products:write orders:read', expiresIn: 12 * 3600 })
    const customer = await mintToken({ sub: 'customer-1', scope: 'orders:write', expiresIn: 12 * 3600 })
    const script = blocks
      .map((b) => b.code)
      .join('\n')
      .replaceAll('<staff token>', staff)
      .replaceAll('<customer token>', customer)
      .replaceAll('localhost:3000', new URL(product!.url).host)
      .replaceAll('localhost:8080', new URL(order!.url).host)
    expect(script).not.toContain('<')
    const run = Bun.spawnSync(['bash', '-e', '-o', 'pipefail', '-c', script], { cwd: root, timeout: 20_000, stdout: 'pipe', stderr: 'pipe' })
    const out = run.stdout.toString().trim()
    expect({ exit: run.exitCode, stderr: run.stderr.toString() }).toEqual({ exit: 0, stderr: '' })
    const placed = JSON.parse(out.split('\n').at(-1)!)
    expect(Value.Check(Order, placed)).toBe(true)
    expect(placed.status).toBe('confirmed')
    // the output the README shows after the block: every field it spells out, as printed
    const shown = fenced(readme, 'text').find((b) => b.code.includes('"status"'))!.code
    for (const [, key, value] of shown.matchAll(/"(\w+)":("[^"…]*"|null|\d+)(?=[,}])/g)) expect(`"${key}":${JSON.stringify(placed[key!])}`).toBe(`"${key}":${value}`)
  })

  it('when the README shows what bun run start prints, then every line is one tools/src/stack.ts prints', () => {
    const shown = fenced(readme, 'text').find((b) => b.code.includes('ready: infrastructure'))!.code.split('\n').filter(Boolean)
    // comments out first: an apostrophe in one would pair with a quote of the code
    const stack = read('tools/src/stack.ts').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
    const literals = [...stack.matchAll(/`((?:[^`\\]|\\.)*)`|'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1] ?? m[2]!)
    const patterns = literals
      .filter((l) => l.replace(/\$\{[^}]*\}/g, '').trim().length >= 5)
      .map((l) => new RegExp(`^${l.split(/\$\{[^}]*\}/).map((part) => part.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&')).join('.*')}$`))
    const tokens = shown.filter((l) => /^ {2}eyJ[\w-]*…$/.test(l))
    expect(tokens.length).toBe(2)
    expect(shown.filter((l) => !tokens.includes(l) && !patterns.some((p) => p.test(l)))).toEqual([])
    for (const start of ['bff ', 'product ', 'order ', 'traces ', 'staff token', 'customer token', 'ready: '])
      expect(shown.some((l) => l.startsWith(start))).toBe(true)
  })
})
