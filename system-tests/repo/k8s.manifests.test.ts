import { describe, expect, it } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { kubectl, kubectlKustomize, kustomize, parseYamlDocuments, render, renderer, type K8sObject } from './kustomize.ts'
import { schemaProblems } from './k8s-schemas.ts'
import { absent } from '@shop/testkit'

// deploy/k8s rendered by `kubectl kustomize` (or, on a machine without kubectl, by the renderer
// that stands in for it, held to kubectl's output below wherever kubectl is), every object held
// to its Kubernetes, KEDA or Prometheus Operator schema: types, required fields and no unknown
// field. No cluster is involved.
const k8s = fileURLToPath(new URL('../../deploy/k8s/', import.meta.url))
const overlays = ['dev', 'prod'] as const
const rendered = Object.fromEntries(overlays.map((o) => [o, render(`${k8s}overlays/${o}`)])) as Record<(typeof overlays)[number], K8sObject[]>
const kinds = (objects: K8sObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name.replace(/-config-\w{10}$/, '-config')}`).sort()
const examples = readdirSync(`${k8s}examples`).filter((f) => f.endsWith('.yaml'))
const exampleObjects = (file: string) => parseYamlDocuments(readFileSync(`${k8s}examples/${file}`, 'utf8'))

describe(`deploy/k8s rendered by ${renderer}`, () => {
  const perService = ['ConfigMap/%-config', 'Deployment/%', 'PodDisruptionBudget/%', 'Service/%']
  const of = (services: string[], names: string[]) => services.flatMap((s) => names.map((n) => n.replace('%', s)))
  const both = (names: string[]) => of(['product', 'order'], names)
  const all = (names: string[]) => of(['product', 'order', 'bff'], names)

  it('when the dev overlay renders, then it has both services and the bff with a CPU HPA each and the Ingress, in namespace shop-dev', () => {
    expect(kinds(rendered.dev)).toEqual([...all([...perService, 'HorizontalPodAutoscaler/%']), 'Ingress/shop', 'Namespace/shop-dev'].sort())
    for (const o of rendered.dev.filter((o) => o.kind !== 'Namespace')) expect(o.metadata.namespace).toBe('shop-dev')
  })

  it('when the prod overlay renders, then KEDA replaces the HPAs, the Prometheus Operator objects and the Ingress are there, in namespace shop', () => {
    const expected = [
      ...all([...perService, 'ScaledObject/%', 'ServiceMonitor/%']),
      // the bff consumes no queue: KEDA scales it on CPU alone, with no broker to authenticate to
      ...both(['TriggerAuthentication/%-rabbitmq']),
      'PrometheusRule/shop-alerts',
      'Ingress/shop',
      'Namespace/shop',
    ]
    expect(kinds(rendered.prod)).toEqual(expected.sort())
    for (const o of rendered.prod.filter((o) => o.kind !== 'Namespace')) expect(o.metadata.namespace).toBe('shop')
  })

  for (const overlay of overlays)
    it(`when the ${overlay} overlay is checked against the schemas, then no object has a wrong type, a missing or an unknown field`, () => {
      const problems = rendered[overlay].map((o) => ({ object: `${o.kind}/${o.metadata.name}`, problems: schemaProblems(o) }))
      expect(problems.filter((p) => p.problems.length)).toEqual([])
      expect(problems.length).toBeGreaterThanOrEqual(11)
    })

  it('when the examples use kinds with a schema here, then they pass it; the operators\' kinds name their API', () => {
    const operatorKinds = new Set(['postgresql.cnpg.io/v1 Cluster', 'rabbitmq.com/v1beta1 RabbitmqCluster'])
    const seen: string[] = []
    for (const file of examples)
      for (const o of exampleObjects(file)) {
        seen.push(o.kind)
        if (operatorKinds.has(`${o.apiVersion} ${o.kind}`)) expect(o.metadata.name).toStartWith('shop-')
        else expect({ file, object: `${o.kind}/${o.metadata.name}`, problems: schemaProblems(o) }).toEqual({ file, object: `${o.kind}/${o.metadata.name}`, problems: [] })
      }
    expect(seen).toEqual(expect.arrayContaining(['Cluster', 'RabbitmqCluster', 'Secret', 'Deployment', 'Service']))
  })
})

describe('the checks themselves', () => {
  const deployment = () => structuredClone(rendered.prod.find((o) => o.kind === 'Deployment')!) as K8sObject & { spec: any }

  it('when a field is misspelled or unknown, then the schema check names it', () => {
    const d = deployment()
    d.spec.template.spec.containers[0].readinesProbe = { httpGet: { path: '/ready', port: 'http' } }
    d.spec.replica = 2
    expect(schemaProblems(d).sort()).toEqual(['unknown field /spec/replica', 'unknown field /spec/template/spec/containers/0/readinesProbe'])
  })

  it('when a required field is missing or a type is wrong, then the schema check says so', () => {
    const d = deployment()
    delete d.spec.selector
    expect(schemaProblems(d).join()).toContain('must have required property selector')
    const e = deployment()
    e.spec.template.spec.terminationGracePeriodSeconds = '30'
    expect(schemaProblems(e).join()).toContain('must be integer')
  })

  it('when a KEDA or Prometheus Operator object has an unknown field, then the check names it', () => {
    const so = structuredClone(rendered.prod.find((o) => o.kind === 'ScaledObject')!) as K8sObject & { spec: any }
    so.spec.minReplicas = 2
    expect(schemaProblems(so)).toEqual(['unknown field /spec/minReplicas'])
    const rule = structuredClone(rendered.prod.find((o) => o.kind === 'PrometheusRule')!) as K8sObject & { spec: any }
    rule.spec.groups[0].rules[0].expression = 'up'
    expect(schemaProblems(rule)).toEqual(['unknown field /spec/groups/0/rules/0/expression'])
  })

  it('when a kustomization uses a field the renderer does not know, then rendering fails instead of guessing', () => {
    expect(render(`${k8s}base`).length).toBe(16)
    const dir = fileURLToPath(new URL('./fixtures/kustomize-unsupported/', import.meta.url))
    expect(() => kustomize(dir)).toThrow('does not support namePrefix')
  })
})

// The renderer stands in for kubectl where kubectl is missing, so it must render exactly what
// kubectl does. Where kubectl is installed (this project's machines and CI), every overlay and
// the base are rendered by both and compared object by object; elsewhere this is skipped, and the
// run says so.
const compared = kubectl ?? absent('kubectl', 'kubectl is not on the PATH', import.meta.path)
describe('the stand-in renderer', () => {
  const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`
  const byKey = (objects: K8sObject[]) => Object.fromEntries(objects.map((o) => [key(o), JSON.parse(JSON.stringify(o))]).sort(([a], [b]) => a.localeCompare(b)))

  for (const dir of ['base', ...overlays.map((o) => `overlays/${o}`)])
    it.skipIf(!compared)(`when ${dir} is rendered by kubectl kustomize and by the renderer, then every object is the same`, () => {
      expect(byKey(kustomize(`${k8s}${dir}`))).toEqual(byKey(kubectlKustomize(`${k8s}${dir}`)))
    })
})
