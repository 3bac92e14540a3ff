/**
 * The shapes of the API objects the rollout logic reads, as the API server sends them in JSON:
 * @kubernetes/client-node's model types in their wire form (Json<T>), on a loose KubeObject that
 * lets any manifest's other fields pass through.
 */
import type {
  CoreV1Event,
  V1Container,
  V1ContainerState,
  V1ContainerStatus,
  V1DaemonSet,
  V1Deployment,
  V1DeploymentCondition,
  V1LabelSelector,
  V1PodSpec,
  V1PodStatus,
  V1PodTemplateSpec,
  V1ReplicaSet,
  V1StatefulSet
} from '@kubernetes/client-node'

export interface ObjectMeta {
  name?: string
  namespace?: string
  uid?: string
  generation?: number
  resourceVersion?: string
  creationTimestamp?: string
  deletionTimestamp?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[]
  [key: string]: unknown
}

export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata?: ObjectMeta
  [key: string]: unknown
}

/**
 * An API model type of @kubernetes/client-node as the API server sends it in JSON. The library's
 * models hold timestamps as Date (its deserializer converts them); on the wire they are strings,
 * and the watch layer (client.ts) hands the verdict logic the wire form, so Date becomes string.
 */
export type Json<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T

/**
 * A kind as the API sends it: the library's spec and status (all optional, as a verdict function
 * must expect of an object it did not create), on the loose KubeObject (any manifest's fields).
 */
type Model<T extends { spec?: unknown; status?: unknown }> = KubeObject & {
  spec?: Partial<Json<NonNullable<T['spec']>>>
  status?: Partial<Json<NonNullable<T['status']>>>
}

export type Condition = Json<V1DeploymentCondition>
export type PodTemplate = Omit<Partial<Json<V1PodTemplateSpec>>, 'spec'> & { spec?: Partial<Json<V1PodSpec>> }
export type Container = Json<V1Container>
export type LabelSelector = Json<V1LabelSelector>
export type Deployment = Model<V1Deployment>
export type ReplicaSet = Model<V1ReplicaSet>
export type StatefulSet = Model<V1StatefulSet>
export type DaemonSet = Model<V1DaemonSet>
export type ContainerState = Json<V1ContainerState>
/** What a kubelet reports of a container; only the name is certain while it starts. */
export type ContainerStatus = Partial<Json<V1ContainerStatus>> & { name: string }
export type PodStatus = Omit<Partial<Json<V1PodStatus>>, 'containerStatuses' | 'initContainerStatuses'> & {
  containerStatuses?: ContainerStatus[]
  initContainerStatuses?: ContainerStatus[]
}
export type Pod = KubeObject & { spec?: Partial<Json<V1PodSpec>>; status?: PodStatus }

export interface ControllerRevision extends KubeObject {
  revision: number
  data?: unknown
}

export type KubeEvent = KubeObject & Partial<Omit<Json<CoreV1Event>, 'metadata' | 'apiVersion' | 'kind'>>

/** The workload kinds whose rollout this suite waits for and can roll back. */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number]

export interface WorkloadRef {
  kind: WorkloadKind
  name: string
  namespace?: string
}

const KIND_ALIASES: Record<string, WorkloadKind> = {
  deployment: 'Deployment',
  deployments: 'Deployment',
  deploy: 'Deployment',
  statefulset: 'StatefulSet',
  statefulsets: 'StatefulSet',
  sts: 'StatefulSet',
  daemonset: 'DaemonSet',
  daemonsets: 'DaemonSet',
  ds: 'DaemonSet'
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/

/** `deployment/web` (kubectl's spellings, any case) as a reference, or a message saying what is wrong. */
export function parseWorkloadRef(text: string): WorkloadRef | string {
  const m = /^([A-Za-z]+)\/(.+)$/.exec(text.trim())
  if (!m)
    return `${JSON.stringify(text)} is not kind/name; use e.g. deployment/web, statefulset/db or daemonset/agent`
  const kind = KIND_ALIASES[m[1]!.toLowerCase()]
  if (!kind)
    return `kind ${JSON.stringify(m[1])} cannot be rolled out; use deployment, statefulset or daemonset`
  if (!DNS_NAME.test(m[2]!)) return `${JSON.stringify(m[2])} is not a valid object name`
  return { kind, name: m[2]! }
}

export function isWorkloadKind(kind: string | undefined): kind is WorkloadKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind ?? '')
}

export function isWorkload(obj: KubeObject): boolean {
  return obj.apiVersion === 'apps/v1' && isWorkloadKind(obj.kind)
}

/** `Deployment ns/name`, how objects are named in messages. */
export function describeObject(obj: {
  kind?: string
  metadata?: { name?: string; namespace?: string }
}): string {
  const ns = obj.metadata?.namespace
  return `${obj.kind ?? '?'} ${ns ? `${ns}/` : ''}${obj.metadata?.name ?? '?'}`
}

/** The API group of an apiVersion: `apps/v1` is `apps`, `v1` the core group `''`. */
export function groupOf(apiVersion: string | undefined): string {
  return apiVersion?.includes('/') ? apiVersion.split('/')[0]! : ''
}

/** A pod's init containers' statuses, then its containers'. */
export function containerStatusesOf(pod: Pod): ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
}

/** When an event last happened, most precise first: a series' last observation, lastTimestamp, eventTime, then its first time and creation. */
export function eventTimes(e: KubeEvent): (string | undefined)[] {
  return [
    e.series?.lastObservedTime,
    e.lastTimestamp,
    e.eventTime,
    e.firstTimestamp,
    e.metadata?.creationTimestamp
  ].map(t => (t === undefined || t === null ? undefined : String(t)))
}

export function condition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find(c => c.type === type)
}

/** A label selector in the query-string form the API server takes (`a=b,c in (d,e)`). */
export function selectorString(selector: LabelSelector | undefined): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) parts.push(`${k}=${v}`)
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',')
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`)
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`)
    else if (e.operator === 'Exists') parts.push(e.key)
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`)
  }
  return parts.join(',')
}

/** True when the labels satisfy the selector (the same rules as the API server). */
export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Record<string, string> = {}
): boolean {
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (labels[k] !== v) return false
  for (const e of selector?.matchExpressions ?? []) {
    const has = e.key in labels
    const value = labels[e.key]
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(value!))) return false
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(value!)) return false
    if (e.operator === 'Exists' && !has) return false
    if (e.operator === 'DoesNotExist' && has) return false
  }
  return true
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  const uid = owner.metadata?.uid
  return (obj.metadata?.ownerReferences ?? []).some(
    r => r.controller && (uid ? r.uid === uid : r.name === owner.metadata?.name)
  )
}
