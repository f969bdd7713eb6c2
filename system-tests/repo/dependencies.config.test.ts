import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'

// One version per dependency: the root package.json's catalog names each exactly once, exact as
// bunfig.toml asks, and every workspace takes it from there (`catalog:`).
const read = (path: string) => JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'))
const root = read('package.json') as { workspaces: { packages: string[]; catalog: Record<string, string> }; devDependencies?: Record<string, string> }
const manifests = ['.', ...root.workspaces.packages].map((dir) => ({ dir, pkg: read(`${dir}/package.json`) }))

describe('dependency versions', () => {
  it('when a workspace depends on a package, then it takes the version from the root catalog or from a workspace', () => {
    const loose = manifests.flatMap(({ dir, pkg }) =>
      ['dependencies', 'devDependencies', 'peerDependencies'].flatMap((section) =>
        Object.entries((pkg[section] ?? {}) as Record<string, string>)
          .filter(([, version]) => version !== 'catalog:' && !version.startsWith('workspace:'))
          .map(([name, version]) => `${dir}: ${name}@${version}`),
      ),
    )
    expect(loose).toEqual([])
  })

  it('when the catalog names a version, then it is exact, and every entry is used by some workspace', () => {
    const used = new Set(manifests.flatMap(({ pkg }) => ['dependencies', 'devDependencies'].flatMap((s) => Object.keys(pkg[s] ?? {}))))
    for (const [name, version] of Object.entries(root.workspaces.catalog)) {
      expect(`${name}@${version}`).toMatch(/@\d+\.\d+\.\d+(-[\w.]+)?$/)
      expect(used.has(name)).toBe(true)
    }
  })
})
