/**
 * The rollback of everything else a failed release changed, next to the workloads' `rollout undo`:
 * each object it configured is put back as it was read before the apply, each object it created is
 * deleted. `restorePlan` decides (pure); `restoreObjects` and `deleteCreated` act. Config comes
 * back before the workloads are rolled back, so restored pods start on their old ConfigMaps and
 * Secrets; created objects go once the workloads are back, so no old pod loses what it mounts.
 * Namespaces and CRDs a release created are kept: deleting them takes everything in them along.
 */
import type { AppliedObject } from '../apply.js'
import type { KubeClient } from '../client.js'
import { KubeApiError, describeApiError } from '../client.js'
import type { KubeObject } from '../objects.js'
import { describeObject, isWorkload } from '../objects.js'

export interface RestoreStep {
  object: string
  path: string
  /** Restore: the object as it was before the release. */
  before?: KubeObject
}

export interface RestorePlan {
  /** Configured objects that are not workloads, config kinds first. */
  restore: RestoreStep[]
  /** Created objects (workloads included), in reverse apply order. */
  delete: RestoreStep[]
  /** Created objects a rollback does not delete, and why. */
  keep: { object: string; why: string }[]
}

/** Kinds whose content pods read: restored first. */
const CONFIG_KINDS = ['ConfigMap', 'Secret']
const NEVER_DELETED: Record<string, string> = {
  Namespace: 'deleting a namespace deletes everything in it',
  CustomResourceDefinition: 'deleting a CRD deletes every object of its kind'
}

/** `workload` mode's image change (action `set image`) is rolled back as a workload, not here. */
export function restorePlan(
  applied: readonly (Pick<AppliedObject, 'kind' | 'path' | 'after' | 'before'> & { action: string })[]
): RestorePlan {
  const plan: RestorePlan = { restore: [], delete: [], keep: [] }
  for (const a of applied) {
    const object = describeObject(a.after)
    if (a.action === 'configured' && a.before && !isWorkload(a.after))
      plan.restore.push({ object, path: a.path, before: a.before })
    if (a.action === 'created') {
      const why = NEVER_DELETED[a.kind]
      if (why) plan.keep.push({ object, why })
      else plan.delete.push({ object, path: a.path })
    }
  }
  const rank = (s: RestoreStep) => {
    const i = CONFIG_KINDS.indexOf(s.before?.kind ?? '')
    return i === -1 ? CONFIG_KINDS.length : i
  }
  plan.restore.sort((a, b) => rank(a) - rank(b))
  plan.delete.reverse()
  return plan
}

/**
 * The object as it was, ready to be written back over the live one: server-set metadata and
 * status dropped, the live resourceVersion taken so that a concurrent change is a conflict.
 */
export function restoredBody(before: KubeObject, live: KubeObject): KubeObject {
  const body = structuredClone(before)
  delete body.status
  const metadata = { ...(body.metadata ?? {}) }
  for (const key of ['uid', 'creationTimestamp', 'generation', 'managedFields', 'selfLink'])
    delete metadata[key]
  metadata.resourceVersion = live.metadata?.resourceVersion
  body.metadata = metadata
  return body
}

export interface RestoreReport {
  restored: string[]
  deleted: string[]
  kept: string[]
  problems: string[]
}

/** Writes each configured object back as it was before the release (a PUT over the live object). */
export async function restoreObjects(
  client: KubeClient,
  steps: readonly RestoreStep[],
  log: (line: string) => void,
  report: RestoreReport
): Promise<void> {
  for (const step of steps) {
    try {
      // A conflict means it changed again under us: read it again and write once more.
      for (let attempt = 1; ; attempt++) {
        const live = await client.request<KubeObject>('GET', step.path, { retryForMs: 30_000 })
        try {
          await client.request('PUT', step.path, {
            body: restoredBody(step.before!, live),
            retryForMs: 30_000
          })
          break
        } catch (err) {
          if (!(err instanceof KubeApiError && err.status === 409) || attempt >= 3) throw err
        }
      }
      report.restored.push(step.object)
      log(`${step.object} restored to its state before the release`)
    } catch (err) {
      report.problems.push(`${step.object}: ${describeApiError(err, 'restoring it').message}`)
    }
  }
}

/** Deletes what the release created (background propagation: owned objects follow). */
export async function deleteCreated(
  client: KubeClient,
  steps: readonly RestoreStep[],
  log: (line: string) => void,
  report: RestoreReport
): Promise<void> {
  for (const step of steps) {
    try {
      if (await client.deleteObject(step.path)) log(`${step.object} deleted: this release created it`)
      report.deleted.push(step.object)
    } catch (err) {
      report.problems.push(`${step.object}: ${describeApiError(err, 'deleting it').message}`)
    }
  }
}
