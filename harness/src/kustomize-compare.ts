// Compares harness/src/kustomize.ts with the real thing: renders every overlay of deploy/k8s with
// both and exits non-zero when they differ (or kubectl is missing). Not part of `bun run test`,
// which needs no kubectl: `bun harness/src/kustomize-compare.ts` where kubectl is installed.
import { deepEquals } from 'bun'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { kustomize, parseYamlDocuments, type K8sObject } from './kustomize.ts'

const overlays = fileURLToPath(new URL('../../deploy/k8s/overlays/', import.meta.url))
const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`
const byKey = (objects: K8sObject[]) => new Map(objects.map((o) => [key(o), JSON.parse(JSON.stringify(o))]))
const version = Bun.spawnSync(['kubectl', 'version', '--client'], { stderr: 'pipe' })
if (!version.success) {
  console.error('kubectl is not installed: nothing compared')
  process.exit(2)
}
console.log(version.stdout.toString().trim())
let differ = 0
for (const overlay of readdirSync(overlays)) {
  const real = Bun.spawnSync(['kubectl', 'kustomize', `${overlays}${overlay}`], { stderr: 'inherit' })
  if (!real.success) process.exit(1)
  const theirs = byKey(parseYamlDocuments(real.stdout.toString()))
  const ours = byKey(kustomize(`${overlays}${overlay}`))
  const keys = [...new Set([...theirs.keys(), ...ours.keys()])].sort()
  const different = keys.filter((k) => !deepEquals(theirs.get(k), ours.get(k)))
  console.log(`${overlay}: ${keys.length} objects, ${different.length ? `different: ${different.join(', ')}` : 'identical'}`)
  differ += different.length
}
process.exit(differ ? 1 : 0)
