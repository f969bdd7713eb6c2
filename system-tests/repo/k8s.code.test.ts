import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Config as ProductConfig } from '@shop/product/config'
import { Config as OrderConfig } from '@shop/order/config'
import { Config as BffConfig } from '@shop/bff/config'
import { parseYamlDocuments, render, type K8sObject } from './kustomize.ts'
import { trustedProxies } from '@shop/kit/security'

// deploy/k8s held to the code it runs: every variable is one the service's config reads, ports
// and probes are the ones the service serves, images are the Dockerfiles', queues are the ones the
// services declare, the shutdown fits in the grace period, the pools fit PostgreSQL. The bff is a
// service like the others, without data: no database, queue or init container.
const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')
const k8s = fileURLToPath(new URL('deploy/k8s/', root))
const rendered = { dev: render(`${k8s}overlays/dev`), prod: render(`${k8s}overlays/prod`) }
const services = { product: ProductConfig.properties, order: OrderConfig.properties, bff: BffConfig.properties }
const queueVar = { product: 'PRODUCT_QUEUE', order: 'ORDER_QUEUE' } as const
type Name = keyof typeof services
const names = Object.keys(services) as Name[]
/** the services with a database and a queue of their own */
type DataName = keyof typeof queueVar
const withData = Object.keys(queueVar) as DataName[]
const composeBuild = (name: Name) =>
  (Bun.YAML.parse(read('compose.yml')) as { services: Record<Name, { build: { args: Record<string, string> } }> }).services[name].build.args

type Probe = { httpGet: { path: string; port: string } }
type Container = {
  name: string
  image: string
  ports: { name: string; containerPort: number }[]
  envFrom: { configMapRef?: { name: string } }[]
  env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[]
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } }
  startupProbe: Probe
  livenessProbe: Probe
  readinessProbe: Probe & { timeoutSeconds: number }
  lifecycle: { preStop: { exec: { command: string[] } } }
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[] } }
  volumeMounts: { name: string; mountPath: string }[]
}
type PodSpec = {
  containers: Container[]
  initContainers?: (Container & { command: string[] })[]
  terminationGracePeriodSeconds: number
  securityContext: { runAsNonRoot: boolean; runAsUser: number }
  topologySpreadConstraints: { topologyKey: string; whenUnsatisfiable: string; labelSelector: { matchLabels: Record<string, string> } }[]
  volumes: { name: string; emptyDir?: object }[]
}
type Deployment = K8sObject & {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; strategy: { rollingUpdate: { maxSurge: number } }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }
}
const find = <T = K8sObject>(objects: K8sObject[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name)
  if (!found) throw new Error(`no ${kind} ${name}`)
  return found as T
}
const deployment = (overlay: keyof typeof rendered, name: Name) => find<Deployment>(rendered[overlay], 'Deployment', name)
const container = (overlay: keyof typeof rendered, name: Name) => deployment(overlay, name).spec.template.spec.containers[0]!
const configData = (overlay: keyof typeof rendered, name: Name) => {
  const ref = container(overlay, name).envFrom[0]!.configMapRef!.name
  return (rendered[overlay].find((o) => o.kind === 'ConfigMap' && o.metadata.name === ref) as K8sObject & { data: Record<string, string> }).data
}
const mebibytes = (q: string) => {
  const [, n, unit] = q.match(/^(\d+)(Mi|Gi)$/) ?? []
  if (!n) throw new Error(`unexpected quantity ${q}`)
  return Number(n) * (unit === 'Gi' ? 1024 : 1)
}
const each = <N extends Name>(fn: (overlay: keyof typeof rendered, name: N) => void, only: readonly N[] = names as N[]) => {
  for (const overlay of ['dev', 'prod'] as const) for (const name of only) fn(overlay, name)
}

describe('deploy/k8s against the code', () => {
  it('when a Deployment or its ConfigMap sets a variable, then the service config reads it', () => {
    each((overlay, name) => {
      const set = [...Object.keys(configData(overlay, name)), ...container(overlay, name).env.map((e) => e.name)]
      const unread = set.filter((key) => !(key in services[name]))
      expect({ overlay, name, unread }).toEqual({ overlay, name, unread: [] })
      expect(set.length).toBeGreaterThan(name === 'bff' ? 8 : 12)
    })
  })

  it('when URLs and keys are needed, then they come from the operator\'s Secret, never from the manifests', () => {
    const common = ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'JWT_JWKS_URL', 'JWT_PUBLIC_KEY']
    // order proves itself to product: its own key (product trusts the public half) or client credentials
    const secretVars = {
      product: [...common, 'SERVICE_JWKS'],
      order: [...common, 'SERVICE_PRIVATE_JWK', 'SERVICE_TOKEN_URL', 'SERVICE_CLIENT_ID', 'SERVICE_CLIENT_SECRET'],
      // no data of its own: only the key it checks tokens with, the services' own
      bff: ['JWT_JWKS_URL', 'JWT_PUBLIC_KEY'],
    }
    each((overlay, name) => {
      const env = container(overlay, name).env
      expect(env.map((e) => e.name).sort()).toEqual([...secretVars[name]].sort())
      for (const e of env) {
        expect(e.value).toBeUndefined()
        expect(e.valueFrom!.secretKeyRef).toMatchObject({ name: `${name}-secrets`, key: e.name })
        // the URLs are required (the service would fall back to 127.0.0.1); the key sources are one of several
        expect(e.valueFrom!.secretKeyRef!.optional ?? false).toBe(e.name.startsWith('JWT_') || e.name.startsWith('SERVICE_'))
      }
      for (const key of secretVars[name]) expect(Object.keys(configData(overlay, name))).not.toContain(key)
    })
    for (const objects of Object.values(rendered)) expect(objects.filter((o) => o.kind === 'Secret')).toEqual([])
    for (const o of parseYamlDocuments(read('deploy/k8s/examples/secrets.example.yaml')) as (K8sObject & { stringData: Record<string, string> })[])
      for (const value of Object.values(o.stringData)) expect(value).toContain('REPLACE')
  })

  it('when visitors come through the Ingress, then everything reaches the bff, which trusts the ingress as a proxy, and the services trust the bff', () => {
    type Path = { path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }
    for (const overlay of ['dev', 'prod'] as const) {
      const ingress = find<K8sObject & { spec: { rules: { http: { paths: Path[] } }[] } }>(rendered[overlay], 'Ingress', 'shop')
      const paths = ingress.spec.rules.flatMap((r) => r.http.paths)
      expect(paths.map((p) => [p.path, p.pathType, p.backend.service.name])).toEqual([['/', 'Prefix', 'bff']])
      for (const p of paths) {
        const service = find<K8sObject & { spec: { ports: { name: string }[] } }>(rendered[overlay], 'Service', p.backend.service.name)
        expect(service.spec.ports.map((port) => port.name)).toContain(p.backend.service.port.name)
      }
      for (const name of names) {
        const trusted = configData(overlay, name).TRUSTED_PROXIES
        expect(trusted).toBeTruthy()
        expect(() => trustedProxies(trusted!)).not.toThrow() // the service would refuse to start on a bad entry
      }
      // the bff's pods are in the pod range the ingress's are: the services believe the one hop it sends
      for (const name of withData) expect(configData(overlay, name).TRUSTED_PROXIES).toBe(configData(overlay, 'bff').TRUSTED_PROXIES)
    }
  })

  it('when probed, then on the port the service listens on (PORT), at /health and /ready, which the services serve', () => {
    for (const name of names) {
      // the route table as the live /docs/json gives it (system-tests/api/generated-client.client.test.ts keeps these equal)
      const paths = [...read(`system-tests/api/generated/${name}-api.ts`).matchAll(/^ {4}"(\/[^"]*)": \{/gm)].map((m) => m[1])
      expect(paths).toEqual(expect.arrayContaining(['/health', '/ready']))
    }
    each((overlay, name) => {
      const c = container(overlay, name)
      const port = Number(configData(overlay, name).PORT)
      expect(port).toBe(services[name].PORT!.default)
      expect(c.ports).toEqual([{ name: 'http', containerPort: port }])
      expect(c.startupProbe.httpGet).toEqual({ path: '/health', port: 'http' })
      expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' })
      expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' })
      // /ready gives each dependency 2 s before it says "down"
      expect(c.readinessProbe.timeoutSeconds).toBeGreaterThan(2)
      const svc = find<K8sObject & { spec: { selector: object; ports: object[] } }>(rendered[overlay], 'Service', name)
      expect(svc.spec.ports).toEqual([{ name: 'http', port, targetPort: 'http' }])
      expect(deployment(overlay, name).spec.template.metadata.labels).toMatchObject(svc.spec.selector)
    })
    expect(configData('prod', 'order').PRODUCT_URL).toBe(`http://product:${configData('prod', 'product').PORT}`)
    expect(configData('prod', 'bff').PRODUCT_URL).toBe(`http://product:${configData('prod', 'product').PORT}`)
    expect(configData('prod', 'bff').ORDER_URL).toBe(`http://order:${configData('prod', 'order').PORT}`)
  })

  it('when images are named, then shop/<service> as built from the Dockerfile with SERVICE=<service>, pinned in prod', () => {
    const dockerfile = read('Dockerfile')
    expect(dockerfile).toContain('CMD ["sh", "-c", "exec bun \\"$SERVICE/src/main.ts\\""]')
    expect(dockerfile).toMatch(/^EXPOSE \$PORT$/m)
    for (const name of names) {
      // compose builds each image with its name and port, the ones the manifests use
      expect(composeBuild(name)).toEqual({ SERVICE: name, PORT: String(services[name].PORT!.default) })
      expect(container('dev', name).image).toBe(`shop/${name}:dev`)
      expect(container('prod', name).image).toMatch(new RegExp(`/shop/${name}:\\d+\\.\\d+\\.\\d+$`))
      expect(container('dev', name).name).toBe(name)
    }
    const base = render(`${k8s}base`).filter((o) => o.kind === 'Deployment') as Deployment[]
    expect(base.map((d) => d.spec.template.spec.containers[0]!.image).sort()).toEqual(['shop/bff', 'shop/order', 'shop/product'])
  })

  it('when a pod starts, then an init container of the same image migrates first, with only what the migration reads; the bff has nothing to migrate', () => {
    each((overlay) => expect(deployment(overlay, 'bff').spec.template.spec.initContainers).toBeUndefined(), ['bff'])
    each((overlay, name) => {
      const spec = deployment(overlay, name).spec.template.spec
      const [init] = spec.initContainers!
      expect(init!.image).toBe(spec.containers[0]!.image)
      expect(init!.command).toEqual(['bun', `${name}/src/migrate.ts`])
      expect(read(`${name}/src/migrate.ts`)).toContain('migrateOnly(')
      expect(init!.env.map((e) => e.name)).toEqual(['DATABASE_URL'])
      expect(init!.envFrom).toEqual(spec.containers[0]!.envFrom)
      expect(init!.securityContext).toEqual(spec.containers[0]!.securityContext)
    }, withData)
  })

  it('when run, then as a non-root user with a read-only root filesystem and only /tmp writable', () => {
    each((overlay, name) => {
      const spec = deployment(overlay, name).spec.template.spec
      // the image's USER is the name `bun`; the kubelet can only enforce runAsNonRoot on a number
      expect(read('Dockerfile')).toMatch(/^USER bun$/m)
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 })
      const c = spec.containers[0]!
      expect(c.securityContext).toEqual({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } })
      expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }])
      expect(spec.volumes.find((v) => v.name === 'tmp')?.emptyDir).toBeDefined()
    })
  })

  it('when sized, then the memory limit is above the bench\'s peak RSS and at most 256 MiB; requests below limits', () => {
    const peak = read('docs/performance.md').match(/\| product \| (\d+) MB \|[\s\S]*?\| order \| (\d+) MB \|/)
    expect(peak).not.toBeNull()
    // the bff's: forwarding 10,000 requests/s from 64 callers (its Deployment says so)
    const bffPeak = read('deploy/k8s/base/bff/deployment.yaml').match(/peak RSS [^:]*: (\d+) MB/)
    expect(bffPeak).not.toBeNull()
    const peakMiB = { product: Number(peak![1]) / 1.048576, order: Number(peak![2]) / 1.048576, bff: Number(bffPeak![1]) / 1.048576 }
    each((overlay, name) => {
      const { requests, limits } = container(overlay, name).resources
      expect(mebibytes(limits.memory)).toBeLessThanOrEqual(256)
      expect(mebibytes(limits.memory)).toBeGreaterThan(peakMiB[name] * 1.25)
      expect(mebibytes(requests.memory)).toBeGreaterThanOrEqual(peakMiB[name])
      expect(mebibytes(requests.memory)).toBeLessThan(mebibytes(limits.memory))
      expect(requests.cpu).toMatch(/^\d+m$/)
    })
  })

  it('when stopped, then the grace period covers the preStop pause and the drain compose.yml allows for', () => {
    const compose = Bun.YAML.parse(read('compose.yml')) as { services: Record<Name, { stop_grace_period: string }> }
    each((overlay, name) => {
      const spec = deployment(overlay, name).spec.template.spec
      const [sleep, seconds] = spec.containers[0]!.lifecycle.preStop.exec.command
      expect(sleep).toBe('sleep')
      const drain = parseInt(compose.services[name].stop_grace_period)
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(seconds) + drain)
      expect(Number(seconds)).toBeGreaterThanOrEqual(5)
    })
  })

  it('when replicas are counted, then one autoscaler owns each Deployment (KEDA\'s or the HPA, never both), at least 2 in prod', () => {
    for (const [overlay, objects] of Object.entries(rendered)) {
      type Scaler = K8sObject & { spec: { scaleTargetRef: { name: string }; minReplicas?: number; minReplicaCount?: number } }
      const scalers = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject') as Scaler[]
      expect(scalers.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual(['bff', 'order', 'product'])
      for (const name of names) expect(deployment(overlay as 'dev', name).spec.replicas).toBeUndefined()
      if (overlay === 'prod') for (const s of scalers) expect(s.spec.minReplicas ?? s.spec.minReplicaCount).toBeGreaterThanOrEqual(2)
    }
  })

  it('when KEDA scales on a queue, then it is the queue the service consumes, read through the service\'s own AMQP_URL; the bff, which consumes none, on CPU', () => {
    const bff = find<K8sObject & { spec: { triggers: { type: string }[] } }>(rendered.prod, 'ScaledObject', 'bff')
    expect(bff.spec.triggers.map((t) => t.type)).toEqual(['cpu'])
    for (const name of withData) {
      type Trigger = { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }
      const so = find<K8sObject & { spec: { triggers: Trigger[]; scaleTargetRef: { name: string } } }>(rendered.prod, 'ScaledObject', name)
      const rabbit = so.spec.triggers.find((t) => t.type === 'rabbitmq')!
      const declared = (services[name] as Record<string, { default?: unknown }>)[queueVar[name]]!.default as string
      expect(declared).toBe(name === 'product' ? 'product.order-events' : 'order.stock-events')
      expect(rabbit.metadata.queueName).toBe(declared)
      expect(configData('prod', name)[queueVar[name]]).toBe(declared)
      expect(so.spec.triggers.map((t) => t.type).sort()).toEqual(['cpu', 'rabbitmq'])
      const auth = find<K8sObject & { spec: { secretTargetRef: object[] } }>(rendered.prod, 'TriggerAuthentication', rabbit.authenticationRef!.name)
      expect(auth.spec.secretTargetRef).toEqual([{ parameter: 'host', name: `${name}-secrets`, key: 'AMQP_URL' }])
    }
  })

  it('when spread, then across nodes by hostname, and the PDB and the ServiceMonitor select the service\'s pods', () => {
    each((overlay, name) => {
      const d = deployment(overlay, name)
      const hostname = d.spec.template.spec.topologySpreadConstraints.find((t) => t.topologyKey === 'kubernetes.io/hostname')!
      expect(hostname.whenUnsatisfiable).toBe('DoNotSchedule')
      expect(d.spec.template.metadata.labels).toMatchObject(hostname.labelSelector.matchLabels)
      const pdb = find<K8sObject & { spec: { selector: { matchLabels: object } } }>(rendered[overlay], 'PodDisruptionBudget', name)
      expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels)
    })
    for (const name of names) {
      const sm = find<K8sObject & { spec: { selector: { matchLabels: object }; endpoints: object[] } }>(rendered.prod, 'ServiceMonitor', name)
      const svc = find(rendered.prod, 'Service', name)
      expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels)
      expect(sm.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '15s' }])
    }
  })

  it('when every replica holds its pools open at the autoscaler\'s maximum, then the connections fit PostgreSQL (the CloudNativePG example)', () => {
    type Cluster = K8sObject & { spec: { postgresql: { parameters: { max_connections: string } }; bootstrap: { initdb: { database: string } } } }
    const clusters = parseYamlDocuments(read('deploy/k8s/examples/cloudnativepg.yaml')) as Cluster[]
    for (const name of withData) {
      const cluster = clusters.find((c) => c.spec.bootstrap.initdb.database === `shop_${name}`)!
      const so = find<K8sObject & { spec: { maxReplicaCount: number } }>(rendered.prod, 'ScaledObject', name)
      const pods = so.spec.maxReplicaCount + deployment('prod', name).spec.strategy.rollingUpdate.maxSurge
      const perPod = Number(configData('prod', name).DB_POOL_MAX) + Number(configData('prod', name).DB_EVENTS_POOL_MAX)
      // PostgreSQL keeps 3 for superusers; leave 10 more for the operator, backups and a psql
      expect(pods * perPod).toBeLessThanOrEqual(Number(cluster.spec.postgresql.parameters.max_connections) - 3 - 10)
    }
  })
})
