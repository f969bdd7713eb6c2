import { Namespace } from 'kubernetes-models/v1/Namespace'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Secret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject'
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication'
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule'
import type { K8sObject } from './kustomize.ts'

/** The kinds deploy/k8s uses, each with the kubernetes-models class holding its schema. */
const models: Record<string, { prototype: { validate(): void } }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
}

export const hasSchema = (o: K8sObject) => `${o.apiVersion}/${o.kind}` in models

/**
 * Validates one object against its Kubernetes (or CRD) schema and returns what is wrong:
 * kubernetes-models' `validate()` (types, enums, required fields), then the fields the schema
 * does not know. `validate()` lets unknown fields through (its schemas have no
 * additionalProperties: false), and the API server would drop them silently, so a misspelled
 * `readinesProbe` would pass it. The schemas ship compiled, so the unknown ones are found by
 * watching the validator: it reads every property its schema declares and enumerates the keys
 * of free-form maps (labels, data); a key it never touched is not in the schema.
 */
export function schemaProblems(o: K8sObject): string[] {
  const model = models[`${o.apiVersion}/${o.kind}`]
  if (!model) return [`no schema for ${o.apiVersion} ${o.kind}`]
  const seen = new Set<string>()
  const watch = (value: unknown, path: string): unknown =>
    typeof value !== 'object' || value === null
      ? value
      : new Proxy(value, {
          get(target, key, receiver) {
            if (typeof key === 'string') seen.add(`${path}/${key}`)
            return watch(Reflect.get(target, key, receiver), `${path}/${String(key)}`)
          },
          ownKeys(target) {
            for (const key of Reflect.ownKeys(target)) if (typeof key === 'string') seen.add(`${path}/${key}`)
            return Reflect.ownKeys(target)
          },
        })
  try {
    model.prototype.validate.call(watch(o, ''))
  } catch (err) {
    return [String((err as Error).message)]
  }
  const unknown: string[] = []
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}/${i}`))
    else if (typeof value === 'object' && value !== null)
      for (const [key, child] of Object.entries(value)) {
        if (!seen.has(`${path}/${key}`)) unknown.push(`unknown field ${path}/${key}`)
        else walk(child, `${path}/${key}`)
      }
  }
  walk(o, '')
  return unknown
}
