import { describe, expect, it } from 'bun:test'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// The layout says the architecture: contracts (schemas) <- kit (runtime) <- services, the harness
// beside them for their tests. Read from the sources themselves: every import, type imports too.
const root = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: { packages: string[] } }
const workspaces = pkg.workspaces.packages

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

  it('when a workspace uses another, then only through its package name, and the workspaces depend one way', () => {
    const crossing = [...edges].flatMap(([from, targets]) =>
      targets.filter((to) => workspaceOf(to) !== workspaceOf(from)).map((to) => `${relative(root, from)} -> ${relative(root, to)}`),
    )
    expect(crossing).toEqual([])

    const names = new Map(workspaces.map((w) => [JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8')).name as string, w]))
    const uses = new Map<string, string[]>(workspaces.map((w) => [w, []]))
    for (const file of files)
      for (const s of specifiers(file)) {
        const name = [...names.keys()].find((n) => s === n || s.startsWith(`${n}/`))
        if (name && names.get(name) !== workspaceOf(file)) uses.get(workspaceOf(file))!.push(names.get(name)!)
      }
    expect(cycles(new Map([...uses].map(([w, to]) => [w, [...new Set(to)]])))).toEqual([])
  })

  it('when the kit is read, then it names nothing of the shop: no scope, bucket, header or event of its own', () => {
    const shopWords = /products:|orders:|order\.created|order\.cancelled|stock\.reserved|stock\.rejected|Idempotent-Replayed|RATE_LIMIT_(ORDERS|READS|WRITES)/
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
