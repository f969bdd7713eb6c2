import { describe, expect, it } from 'bun:test'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

// The kit's public API is a chosen list (kit/index.ts), and each concern's folder has one face
// (its index.ts). A service may use the list and nothing else; tests and tools may also use a
// folder's face (`@shop/kit/messaging`), never a file behind it.
const root = fileURLToPath(new URL('../../', import.meta.url))
const kit = join(root, 'kit')
const folders = readdirSync(kit).filter((d) => statSync(join(kit, d)).isDirectory() && !['test', 'node_modules'].includes(d) && !d.startsWith('.'))

const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (name === 'node_modules' || name.startsWith('.')) return []
    if (statSync(path).isDirectory()) return sources(path)
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : []
  })

/** Every name a module exports through `export { ... }` / `export type { ... }` lists. */
const exportedNames = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)].flatMap((m) =>
    m[1]!.split(',').map((n) => n.replace(/^\s*type\s+/, '').split(/\s+as\s+/).pop()!.trim()).filter(Boolean),
  )
/** `{ name: the specifier it came from }` for every named import from @shop/kit in a file. */
const kitImports = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'(@shop\/kit[^']*)'/g)].flatMap((m) =>
    m[1]!.split(',').map((n) => ({ name: n.replace(/^\s*type\s+/, '').split(/\s+as\s+/)[0]!.trim(), from: m[2]! })).filter((i) => i.name),
  )

// a service is a workspace with src/main.ts; the examples (examples/<name>/) are held to the same list
const services = readdirSync(root).filter((d) => existsSync(join(root, d, 'src', 'main.ts')))
const examples = existsSync(join(root, 'examples'))
  ? readdirSync(join(root, 'examples')).map((d) => `examples/${d}`).filter((d) => existsSync(join(root, d, 'src', 'main.ts')))
  : []
const public_ = new Set(exportedNames(join(kit, 'index.ts')))

describe("the kit's public API", () => {
  it('when kit/index.ts is read, then it lists what it exports by name: no export * of a folder or file', () => {
    expect(readFileSync(join(kit, 'index.ts'), 'utf8')).not.toMatch(/export\s+\*/)
    expect(public_.size).toBeGreaterThan(10)
  })

  it('when a concern has a folder, then the folder has one face, its index.ts, and the root list takes from faces only', () => {
    expect(folders.length).toBeGreaterThanOrEqual(7)
    expect(folders.filter((d) => !existsSync(join(kit, d, 'index.ts')))).toEqual([])
    const from = [...readFileSync(join(kit, 'index.ts'), 'utf8').matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!)
    expect(from.filter((s) => !/^\.\/[a-z-]+\/index\.ts$/.test(s))).toEqual([])
    const pkg = JSON.parse(readFileSync(join(kit, 'package.json'), 'utf8')) as { exports: Record<string, string> }
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', ...folders.map((d) => `./${d}`)].sort())
  })

  it('when a service or an example imports from the kit, then only names of the public list, from @shop/kit itself', () => {
    expect(services.length).toBeGreaterThanOrEqual(2)
    const offending = [...services, ...examples].flatMap((s) =>
      sources(join(root, s, 'src')).flatMap((file) =>
        kitImports(file)
          .filter((i) => i.from !== '@shop/kit' || !public_.has(i.name))
          .map((i) => `${relative(root, file)}: ${i.name} from ${i.from}`),
      ),
    )
    expect(offending).toEqual([])
  })

  it('when the public list is read, then every name on it is used by a service (nothing exported for the kit itself)', () => {
    const used = new Set(services.flatMap((s) => sources(join(root, s, 'src')).flatMap((f) => kitImports(f).map((i) => i.name))))
    expect([...public_].filter((n) => !used.has(n))).toEqual([])
  })
})
