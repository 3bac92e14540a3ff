/**
 * The shapes of the API objects the rollout logic reads, as the API server sends them in JSON
 * (timestamps are strings). Only the fields we judge are typed; everything else passes through.
 */

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

export interface Condition {
  type: string
  status: string
  reason?: string
  message?: string
  lastTransitionTime?: string
  lastUpdateTime?: string
}

export interface PodTemplate {
  metadata?: ObjectMeta
  spec?: {
    containers?: Container[]
    initContainers?: Container[]
    [key: string]: unknown
  }
}

export interface Container {
  name: string
  image?: string
  [key: string]: unknown
}

export interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: { key: string; operator: string; values?: string[] }[]
}

export interface Deployment extends KubeObject {
  spec?: {
    replicas?: number
    paused?: boolean
    progressDeadlineSeconds?: number
    selector?: LabelSelector
    template?: PodTemplate
    [key: string]: unknown
  }
  status?: {
    observedGeneration?: number
    replicas?: number
    updatedReplicas?: number
    readyReplicas?: number
    availableReplicas?: number
    unavailableReplicas?: number
    conditions?: Condition[]
  }
}

export interface ReplicaSet extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector; template?: PodTemplate }
  status?: {
    replicas?: number
    readyReplicas?: number
    availableReplicas?: number
    observedGeneration?: number
  }
}

export interface StatefulSet extends KubeObject {
  spec?: {
    replicas?: number
    selector?: LabelSelector
    template?: PodTemplate
    updateStrategy?: {
      type?: string
      rollingUpdate?: { partition?: number; maxUnavailable?: number | string }
    }
    [key: string]: unknown
  }
  status?: {
    observedGeneration?: number
    replicas?: number
    readyReplicas?: number
    currentReplicas?: number
    updatedReplicas?: number
    availableReplicas?: number
    currentRevision?: string
    updateRevision?: string
  }
}

export interface DaemonSet extends KubeObject {
  spec?: {
    selector?: LabelSelector
    template?: PodTemplate
    updateStrategy?: { type?: string }
    [key: string]: unknown
  }
  status?: {
    observedGeneration?: number
    desiredNumberScheduled?: number
    currentNumberScheduled?: number
    updatedNumberScheduled?: number
    numberAvailable?: number
    numberReady?: number
  }
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string }
  running?: { startedAt?: string }
  terminated?: { reason?: string; message?: string; exitCode?: number; finishedAt?: string }
}

export interface ContainerStatus {
  name: string
  ready?: boolean
  started?: boolean
  restartCount?: number
  image?: string
  state?: ContainerState
  lastState?: ContainerState
}

export interface Pod extends KubeObject {
  spec?: { containers?: Container[]; initContainers?: Container[]; nodeName?: string }
  status?: {
    phase?: string
    reason?: string
    message?: string
    conditions?: Condition[]
    containerStatuses?: ContainerStatus[]
    initContainerStatuses?: ContainerStatus[]
    startTime?: string
  }
}

export interface ControllerRevision extends KubeObject {
  revision: number
  data?: unknown
}

export interface KubeEvent extends KubeObject {
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string }
  reason?: string
  message?: string
  type?: string
  count?: number
  firstTimestamp?: string
  lastTimestamp?: string
  eventTime?: string
  series?: { count?: number; lastObservedTime?: string }
}

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
