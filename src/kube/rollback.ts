/**
 * Rollback plans with `kubectl rollout undo` semantics, as pure functions of the objects read from
 * the API server:
 * - Deployment: the target revision's ReplicaSet template without `pod-template-hash`, written
 *   back with a JSON patch that also replaces the annotations (those kubectl skips are kept from
 *   the Deployment, the rest come from the ReplicaSet).
 * - StatefulSet, DaemonSet: the target ControllerRevision's data, applied as a strategic merge patch.
 * With no target revision the previous one (the highest below the current) is used.
 */
import type { ControllerRevision, Deployment, KubeObject, PodTemplate, ReplicaSet } from './objects.js'
import { isControlledBy } from './objects.js'

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision'
export const POD_TEMPLATE_HASH = 'pod-template-hash'

/** Annotations kubectl never copies from a ReplicaSet onto the Deployment it rolls back. */
export const ROLLBACK_SKIPPED_ANNOTATIONS: ReadonlySet<string> = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to'
])

export type RollbackPlan =
  | {
      kind: 'patch'
      revision: number
      patchType: 'json' | 'strategic-merge'
      patch: unknown
      description: string
    }
  | { kind: 'skip'; revision: number; description: string }
  | { kind: 'impossible'; description: string }

export function revisionOf(obj: KubeObject | undefined): number {
  const text = obj?.metadata?.annotations?.[REVISION_ANNOTATION]
  const n = text === undefined ? NaN : Number(text)
  return Number.isInteger(n) ? n : 0
}

/** kubectl's choice of target: the given revision, or the highest one below the newest. */
function targetRevision(revisions: number[], toRevision: number): number | undefined {
  if (toRevision > 0) return revisions.includes(toRevision) ? toRevision : undefined
  const sorted = [...new Set(revisions)].sort((a, b) => a - b)
  return sorted.length >= 2 ? sorted[sorted.length - 2] : undefined
}

export function deploymentRollbackPlan(
  deployment: Deployment,
  replicaSets: readonly ReplicaSet[],
  toRevision = 0
): RollbackPlan {
  const name = deployment.metadata?.name ?? '?'
  if (deployment.spec?.paused) {
    return {
      kind: 'impossible',
      description: `deployment "${name}" is paused; kubectl cannot roll back a paused deployment: resume it first`
    }
  }
  const owned = replicaSets.filter(rs => isControlledBy(rs, deployment))
  const target = targetRevision(
    owned.map(revisionOf).filter(r => r > 0),
    toRevision
  )
  if (target === undefined) {
    return {
      kind: 'impossible',
      description:
        toRevision > 0
          ? `deployment "${name}" has no revision ${toRevision} in its history`
          : `deployment "${name}" has no previous revision to roll back to`
    }
  }
  const rs = owned.find(r => revisionOf(r) === target)!
  const template = clone(rs.spec?.template ?? {})
  if (templatesEqualIgnoringHash(template, deployment.spec?.template ?? {})) {
    return {
      kind: 'skip',
      revision: target,
      description: `skipped rollback: the current template already matches revision ${target}`
    }
  }
  if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH]
  const annotations: Record<string, string> = {}
  for (const [k, v] of Object.entries(deployment.metadata?.annotations ?? {}))
    if (ROLLBACK_SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v
  for (const [k, v] of Object.entries(rs.metadata?.annotations ?? {}))
    if (!ROLLBACK_SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v
  return {
    kind: 'patch',
    revision: target,
    patchType: 'json',
    patch: [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: annotations }
    ],
    description: `roll back deployment "${name}" to revision ${target} (ReplicaSet ${rs.metadata?.name})`
  }
}

export function controllerRevisionRollbackPlan(
  owner: KubeObject,
  revisions: readonly ControllerRevision[],
  toRevision = 0
): RollbackPlan {
  const what = `${owner.kind?.toLowerCase()} "${owner.metadata?.name}"`
  const owned = revisions.filter(r => isControlledBy(r, owner))
  const target = targetRevision(
    owned.map(r => r.revision),
    toRevision
  )
  if (target === undefined) {
    return {
      kind: 'impossible',
      description:
        toRevision > 0
          ? `${what} has no revision ${toRevision} in its history`
          : `${what} has no previous revision to roll back to`
    }
  }
  const history = owned.find(r => r.revision === target)!
  const data = history.data as { spec?: { template?: PodTemplate } } | undefined
  const current = (owner.spec as { template?: PodTemplate } | undefined)?.template ?? {}
  const wanted = stripPatchDirectives(clone(data?.spec?.template ?? {}))
  if (templatesEqualIgnoringHash(wanted, current)) {
    return {
      kind: 'skip',
      revision: target,
      description: `skipped rollback: the current template already matches revision ${target}`
    }
  }
  return {
    kind: 'patch',
    revision: target,
    patchType: 'strategic-merge',
    patch: data,
    description: `roll back ${what} to revision ${target} (ControllerRevision ${history.metadata?.name})`
  }
}

/** The ControllerRevision number a StatefulSet or DaemonSet currently rolls towards. */
export function currentControllerRevision(
  owner: KubeObject,
  revisions: readonly ControllerRevision[]
): number {
  const owned = revisions.filter(r => isControlledBy(r, owner))
  const updateRevision = (owner.status as { updateRevision?: string } | undefined)?.updateRevision
  if (updateRevision) {
    const named = owned.find(r => r.metadata?.name === updateRevision)
    if (named) return named.revision
  }
  return owned.reduce((max, r) => Math.max(max, r.revision), 0)
}

export function templatesEqualIgnoringHash(a: PodTemplate, b: PodTemplate): boolean {
  const strip = (t: PodTemplate) => {
    const c = clone(t)
    if (c.metadata?.labels) {
      delete c.metadata.labels[POD_TEMPLATE_HASH]
      delete c.metadata.labels['controller-revision-hash']
    }
    return c
  }
  return canonical(strip(a)) === canonical(strip(b))
}

function stripPatchDirectives<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripPatchDirectives) as T
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) out[k] = stripPatchDirectives(v)
    return out as T
  }
  return value
}

/** JSON with sorted keys and empty maps dropped, so equal objects compare equal. */
function canonical(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm)
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const k of Object.keys(v).sort()) {
        const x = norm((v as Record<string, unknown>)[k])
        if (x === undefined || x === null) continue
        if (typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length === 0) continue
        out[k] = x
      }
      return out
    }
    return v
  }
  return JSON.stringify(norm(value))
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}
