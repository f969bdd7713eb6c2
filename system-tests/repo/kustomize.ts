import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Kustomize's output, for the checks of deploy/k8s (k8s.code, k8s.manifests). `render` asks the
 * real `kubectl kustomize` wherever kubectl is installed, as it is on this project's machines and
 * CI's. Where it is not, the renderer below stands in, so that `bun run test` still holds the
 * manifests to the code on any machine with Bun: that is the only reason it is kept. It earns it
 * only while it renders exactly what kubectl does, so k8s.manifests.test.ts compares the two for
 * every overlay wherever kubectl is there, and the renderer refuses what it does not know.
 *
 * The renderer covers the subset deploy/k8s uses: resources (files and folders), components,
 * namespace, images, configMapGenerator (literals; create and merge, with kustomize's content
 * hash in the name and the references to it renamed) and patches (strategic merge of maps,
 * `$patch: delete`; a list inside a patch is refused rather than merged wrongly). Anything else
 * in a kustomization is an error, so the manifests cannot quietly outgrow what it renders.
 */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown }
type Generated = K8sObject & { data: Record<string, string> }
type Patch = { path?: string; patch?: string; target?: { kind?: string; name?: string } }
type Kustomization = {
  apiVersion: string
  kind: 'Kustomization' | 'Component'
  resources?: string[]
  components?: string[]
  namespace?: string
  images?: { name: string; newName?: string; newTag?: string }[]
  configMapGenerator?: { name: string; behavior?: 'create' | 'merge'; literals: string[] }[]
  patches?: Patch[]
}

const supported = new Set(['apiVersion', 'kind', 'resources', 'components', 'namespace', 'images', 'configMapGenerator', 'patches'])
const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass'])
const generated = new WeakSet<object>()

/** Every document of a multi-document YAML file (split on `---` lines; empty documents dropped). */
export const parseYamlDocuments = (text: string): K8sObject[] =>
  text
    .split(/^---[ \t]*$/m)
    .map((doc) => Bun.YAML.parse(doc) as K8sObject | null)
    .filter((d): d is K8sObject => d != null)

/** `kubectl kustomize` when kubectl answers here (`kubectl version --client`), else undefined. */
export const kubectl: string | undefined = (() => {
  const path = Bun.which('kubectl')
  return path && Bun.spawnSync([path, 'version', '--client'], { stdout: 'ignore', stderr: 'ignore' }).success ? path : undefined
})()

/** The real `kubectl kustomize DIR`, parsed; an error with kubectl's own words when it fails. */
export function kubectlKustomize(dir: string): K8sObject[] {
  if (!kubectl) throw new Error('kubectl is not installed')
  const run = Bun.spawnSync([kubectl, 'kustomize', dir], { stdout: 'pipe', stderr: 'pipe' })
  if (!run.success) throw new Error(`kubectl kustomize ${dir}: ${run.stderr.toString().trim()}`)
  return parseYamlDocuments(run.stdout.toString())
}

/** What the checks render with: kubectl's kustomize where it is installed, else the renderer below. */
export const renderer = kubectl ? 'kubectl kustomize' : 'the renderer in system-tests/repo/kustomize.ts'
export const render = (dir: string): K8sObject[] => (kubectl ? kubectlKustomize(dir) : kustomize(dir))

/** The stand-in renderer. */
export function kustomize(dir: string): K8sObject[] {
  const objects = build(dir, 'Kustomization')
  return hashGeneratedNames(objects)
}

function readKustomization(dir: string): Kustomization {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => join(dir, f)).find(existsSync)
  if (!file) throw new Error(`${dir}: no kustomization.yaml`)
  const k = Bun.YAML.parse(readFileSync(file, 'utf8')) as Kustomization
  const unknown = Object.keys(k).filter((key) => !supported.has(key))
  if (unknown.length) throw new Error(`${file}: the renderer does not support ${unknown.join(', ')}`)
  return k
}

function build(dir: string, expected: Kustomization['kind'], into: K8sObject[] = []): K8sObject[] {
  const k = readKustomization(dir)
  if (k.kind !== expected) throw new Error(`${dir}: expected kind ${expected}, found ${k.kind}`)
  // a component adds to, and transforms, the resources of the kustomization that uses it
  const objects = expected === 'Component' ? into : []
  for (const entry of k.resources ?? []) {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) objects.push(...build(path, 'Kustomization'))
    else objects.push(...parseYamlDocuments(readFileSync(path, 'utf8')))
  }
  for (const entry of k.components ?? []) build(join(dir, entry), 'Component', objects)
  for (const gen of k.configMapGenerator ?? []) generateConfigMap(objects, gen)
  for (const patch of k.patches ?? []) applyPatch(dir, objects, patch)
  if (k.namespace) for (const o of objects) if (!clusterScoped.has(o.kind)) o.metadata.namespace = k.namespace
  for (const image of k.images ?? []) setImage(objects, image)
  return objects
}

function generateConfigMap(objects: K8sObject[], gen: NonNullable<Kustomization['configMapGenerator']>[number]) {
  const data = Object.fromEntries(
    gen.literals.map((l) => {
      const at = l.indexOf('=')
      if (at < 1) throw new Error(`configMapGenerator ${gen.name}: literal without a name: ${l}`)
      return [l.slice(0, at), l.slice(at + 1)]
    }),
  )
  const existing = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === gen.name && generated.has(o)) as Generated | undefined
  if ((gen.behavior ?? 'create') === 'merge') {
    if (!existing) throw new Error(`configMapGenerator ${gen.name}: merge, but no such generated ConfigMap`)
    existing.data = { ...existing.data, ...data }
    return
  }
  if (existing) throw new Error(`configMapGenerator ${gen.name}: created twice`)
  const cm: Generated = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: gen.name }, data }
  generated.add(cm)
  objects.push(cm)
}

function applyPatch(dir: string, objects: K8sObject[], p: Patch) {
  const text = p.path ? readFileSync(join(dir, p.path), 'utf8') : p.patch
  if (!text) throw new Error(`${dir}: a patch without path or patch`)
  const patch = Bun.YAML.parse(text) as K8sObject & { $patch?: string }
  const matches = objects.filter((o) =>
    p.target
      ? (!p.target.kind || o.kind === p.target.kind) && (!p.target.name || o.metadata.name === p.target.name)
      : o.kind === patch.kind && o.metadata.name === patch.metadata.name,
  )
  if (!matches.length) throw new Error(`${dir}: patch ${p.path ?? ''} matches nothing`)
  for (const target of matches) {
    if (patch.$patch === 'delete') objects.splice(objects.indexOf(target), 1)
    else {
      const { apiVersion: _a, kind: _k, metadata, ...rest } = patch
      const { name: _n, ...metaRest } = metadata ?? { name: '' }
      mergeInto(target as Record<string, unknown>, { ...rest, ...(Object.keys(metaRest).length ? { metadata: metaRest } : {}) })
    }
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function mergeInto(target: Record<string, unknown>, patch: Record<string, unknown>) {
  for (const [key, value] of Object.entries(patch)) {
    if (Array.isArray(value)) throw new Error(`patch: lists (${key}) are merged by key in strategic merge; not supported here`)
    if (value === null) delete target[key]
    else if (isMap(value) && isMap(target[key])) mergeInto(target[key] as Record<string, unknown>, value)
    else target[key] = structuredClone(value)
  }
}

type Container = { image?: string }
const podSpec = (o: K8sObject) => ((o.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec)
type PodSpec = {
  containers?: Container[]
  initContainers?: Container[]
  volumes?: { configMap?: { name: string } }[]
}

function setImage(objects: K8sObject[], image: NonNullable<Kustomization['images']>[number]) {
  for (const o of objects)
    for (const c of [...(podSpec(o)?.containers ?? []), ...(podSpec(o)?.initContainers ?? [])]) {
      if (!c.image) continue
      const [, name, tag] = c.image.match(/^(.*?)(?::([^:/@]+))?(@.*)?$/) ?? []
      if (name !== image.name) continue
      c.image = `${image.newName ?? name}${image.newTag ? `:${image.newTag}` : tag ? `:${tag}` : ''}`
    }
}

/**
 * kustomize's suffix: sha256 of {data, kind, name} as JSON with sorted keys (Go's json.Marshal,
 * which escapes <, > and &), its first 10 hex digits with 0 1 3 a e mapped to g h k m t. The
 * name hashes as "": kustomize looks it up under the path "metadata/name" as one field name,
 * which finds nothing (compared with kubectl kustomize v5.5.0's output).
 */
export function configMapHash(data: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  const json = JSON.stringify({ data: sorted, kind: 'ConfigMap', name: '' }).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)
  const hex = createHash('sha256').update(json).digest('hex').slice(0, 10)
  return hex.replace(/[013ae]/g, (c) => ({ '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' })[c]!)
}

function hashGeneratedNames(objects: K8sObject[]): K8sObject[] {
  const renamed = new Map<string, string>()
  for (const o of objects)
    if (generated.has(o)) {
      const cm = o as Generated
      const name = `${cm.metadata.name}-${configMapHash(cm.data)}`
      renamed.set(`${cm.metadata.namespace ?? ''}/${cm.metadata.name}`, name)
      cm.metadata.name = name
    }
  for (const o of objects) {
    const spec = podSpec(o)
    if (!spec) continue
    const rename = (ref: { name: string } | undefined) => {
      const to = ref && renamed.get(`${o.metadata.namespace ?? ''}/${ref.name}`)
      if (ref && to) ref.name = to
    }
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])] as {
      envFrom?: { configMapRef?: { name: string } }[]
      env?: { valueFrom?: { configMapKeyRef?: { name: string } } }[]
    }[]) {
      for (const e of c.envFrom ?? []) rename(e.configMapRef)
      for (const e of c.env ?? []) rename(e.valueFrom?.configMapKeyRef)
    }
    for (const v of spec.volumes ?? []) rename(v.configMap)
  }
  return objects
}
