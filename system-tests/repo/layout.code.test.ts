import { describe, expect, it } from 'bun:test'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// The layout says the architecture. The workspaces stand in layers and depend one way, down:
// contracts (schemas) <- kit (runtime) <- testkit (what tests need) <- the services, one beside
// the other (product, order, the bff in front of them, and the example made from the kit alone,
// examples/notes) <- tools (what developers and operators run) <- system-tests (the whole system,
// the tools' output included). A workspace uses only those
// below it, never one beside it: product, order and the bff never import each other (the bff
// talks to the others over HTTP only), the testkit never imports a service, nothing imports the
// tools or the system tests but what stands above them. Read from the sources themselves (every
// import, type imports too) and from each package.json, with no exceptions listed.
const root = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: { packages: string[] } }
const workspaces = pkg.workspaces.packages
const layers = [['contracts'], ['kit'], ['testkit'], ['product', 'order', 'bff', 'examples/notes'], ['tools'], ['system-tests']]
const layerOf = (w: string) => layers.findIndex((l) => l.includes(w))

/** The uses that break the layers: `from -> to` where `to` is not below `from`. */
const wrongWay = (uses: Map<string, string[]>) =>
  [...uses].flatMap(([from, tos]) => [...new Set(tos)].filter((to) => to !== from && !(layerOf(to) >= 0 && layerOf(to) < layerOf(from))).map((to) => `${from} -> ${to}`))

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (name === 'node_modules' || name.startsWith('.')) return []
    if (statSync(path).isDirectory()) return sources(path)
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : []
  })
}
const files = workspaces.flatMap((w) => sources(join(root, w)))
const workspaceOf = (file: string) => workspaces.filter((w) => file.startsWith(join(root, w) + '/')).sort((a, b) => b.length - a.length)[0]!
const specifiers = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => (m[1] ?? m[2])!,
  )
const names = new Map(workspaces.map((w) => [JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8')).name as string, w]))
const isTest = (file: string) => /\/test\//.test(file) || /\.test\.ts$/.test(file)

/** file -> the files it imports by relative path */
const edges = new Map(files.map((f) => [f, specifiers(f).filter((s) => s.startsWith('.')).map((s) => resolve(dirname(f), s))]))

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (node: string) => {
    state.set(node, 'open')
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next])
      else if (!state.has(next)) visit(next)
    }
    stack.pop()
    state.set(node, 'done')
  }
  for (const node of graph.keys()) if (!state.has(node)) visit(node)
  return found
}

describe('the layout', () => {
  it('when modules import each other, then no import goes round in a circle (type imports included)', () => {
    const found = cycles(edges).map((c) => c.map((f) => relative(root, f)).join(' -> '))
    expect(found).toEqual([])
  })

  it('when a workspace is listed in package.json, then the layers place it', () => {
    expect(workspaces.filter((w) => layerOf(w) < 0)).toEqual([])
    expect(layers.flat().filter((w) => !workspaces.includes(w))).toEqual([])
  })

  it('when a workspace uses another, then only through its package name, and only one below it (type imports included)', () => {
    const crossing = [...edges].flatMap(([from, targets]) =>
      targets.filter((to) => workspaceOf(to) !== workspaceOf(from)).map((to) => `${relative(root, from)} -> ${relative(root, to)}`),
    )
    expect(crossing).toEqual([])

    const uses = new Map<string, string[]>(workspaces.map((w) => [w, []]))
    for (const file of files)
      for (const s of specifiers(file)) {
        const name = [...names.keys()].find((n) => s === n || s.startsWith(`${n}/`))
        if (name && names.get(name) !== workspaceOf(file)) uses.get(workspaceOf(file))!.push(names.get(name)!)
      }
    expect(wrongWay(uses)).toEqual([])
  })

  it("when a workspace's package.json lists another, then it is one below it: a service lists no other service, tools or system tests", () => {
    const listed = new Map(
      workspaces.map((w) => {
        const { dependencies = {}, devDependencies = {} } = JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8'))
        return [w, Object.keys({ ...dependencies, ...devDependencies }).filter((n) => names.has(n)).map((n) => names.get(n)!)]
      }),
    )
    expect(wrongWay(listed)).toEqual([])
  })

  it('when a service imports another service, or the testkit a service, or a service the tools, then the check names it (it can fail)', () => {
    const uses = new Map([
      ['order', ['kit', 'product', 'testkit']],
      ['bff', ['contracts', 'order']],
      ['testkit', ['kit', 'order']],
      ['product', ['tools', 'system-tests']],
      ['tools', ['order', 'system-tests']],
      ['system-tests', ['tools', 'order', 'product']],
    ])
    expect(wrongWay(uses)).toEqual(['order -> product', 'bff -> order', 'testkit -> order', 'product -> tools', 'product -> system-tests', 'tools -> system-tests'])
  })

  it('when the kit is read, then it names nothing of the shop: no scope, bucket, header or event of its own', () => {
    const shopWords = /products:|orders:|order\.created|order\.cancelled|stock\.reserved|stock\.rejected|stock\.released|Idempotent-Replayed|RATE_LIMIT_(ORDERS|READS|WRITES)/
    const kit = files.filter((f) => workspaceOf(f) === 'kit' && !isTest(f))
    expect(kit.filter((f) => shopWords.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f))).toEqual([])
    // from the shop's contracts it takes only the shapes it answers with itself
    const generic = new Set(['Problem', 'ValidationProblem', 'FieldError', 'PROBLEM_CONTENT_TYPE', 'Health', 'Readiness', 'EventHeaders', 'MoneyPattern'])
    const taken = kit.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'@shop\/contracts'/g)].flatMap((m) =>
        m[1]!.split(',').map((n) => n.replace(/^\s*type\s+/, '').trim()).filter(Boolean),
      ),
    )
    expect(taken.filter((name) => !generic.has(name))).toEqual([])
  })

  it('when a kit module is opened, then it starts with a comment saying what it is for', () => {
    const kit = files.filter((f) => workspaceOf(f) === 'kit' && !isTest(f))
    expect(kit.filter((f) => !/^\s*(\/\*\*|\/\/)/.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f))).toEqual([])
  })

  it('when contracts is read, then it holds schemas only: it imports nothing but TypeBox', () => {
    const imported = files.filter((f) => workspaceOf(f) === 'contracts').flatMap((f) => specifiers(f).filter((s) => !s.startsWith('.')))
    expect([...new Set(imported)]).toEqual(['@sinclair/typebox'])
  })
})
