/**
 * Is an object of the release ready? The workloads have their rollout viewers (status.ts); every
 * other object is judged here, as a pure function of the object (and, for a Job, its pods):
 * - Job: Complete, or Failed (BackoffLimitExceeded, DeadlineExceeded...); a pod that can never run
 *   (image, configuration, scheduling) fails it at once. Exit failures are left to the Job's own
 *   backoffLimit: that is the retry budget its author chose.
 * - CustomResourceDefinition: Established (NamesAccepted=False fails it).
 * - Pod, Service of type LoadBalancer: Ready / an address.
 * - a kind with a readiness rule (readiness-rules.ts): its success and failure matchers.
 * - anything else by kstatus's generic rules: the generation observed, Stalled or Failed fails,
 *   Reconciling waits, Ready (or Available) decides; a custom resource with a status subresource
 *   waits until its controller reports; an object with no status (ConfigMap, RBAC) is ready at once.
 */
import type { DoomPolicy } from './doom.js'
import { doomedPodReason } from './doom.js'
import type { Condition, KubeObject, Pod } from './objects.js'
import { condition, groupOf, isControlledBy } from './objects.js'
import type { PodEvidence } from './pod-evidence.js'
import type { ReadinessRule } from './readiness-rules.js'
import { matches, ruleFor, valuesAt } from './readiness-rules.js'

export type ObjectState = 'current' | 'in progress' | 'failed'

export interface ObjectVerdict {
  state: ObjectState
  message: string
}

export interface ReadinessContext {
  rules: readonly ReadinessRule[]
  /** The kind has a status subresource (discovery): a controller is expected to report on it. */
  hasStatus: boolean
  /** A Job's pods. */
  pods?: readonly Pod[]
  evidence?: (pod: Pod) => PodEvidence
  policy: DoomPolicy
  now: number
}

/** Doom reasons of a Job's pod that are exit failures: the Job's backoffLimit decides on those. */
const EXIT_FAILURES = new Set(['CrashLoopBackOff', 'OOMKilled', 'Error', 'Failed'])

/** A group served by Kubernetes itself (core, apps, batch, *.k8s.io), not by a CRD. */
export function isBuiltInGroup(group: string): boolean {
  return group === '' || !group.includes('.') || group.endsWith('.k8s.io')
}

export function objectReadiness(obj: KubeObject, ctx: ReadinessContext): ObjectVerdict {
  const label = `${(obj.kind ?? '?').toLowerCase()}/${obj.metadata?.name ?? '?'}`
  if (obj.metadata?.deletionTimestamp) return { state: 'in progress', message: `${label} is being deleted` }
  const group = groupOf(obj.apiVersion)
  const status = (obj.status ?? {}) as { conditions?: Condition[]; [k: string]: unknown }
  const conditions = Array.isArray(status.conditions) ? status.conditions : []
  const rule = ruleFor(ctx.rules, group, obj.kind ?? '')
  if (rule) return ruleReadiness(obj, rule, label)
  if (group === 'batch' && obj.kind === 'Job') return jobReadiness(obj, conditions, ctx, label)
  if (group === 'apiextensions.k8s.io' && obj.kind === 'CustomResourceDefinition') {
    const names = condition(conditions, 'NamesAccepted')
    if (names?.status === 'False')
      return {
        state: 'failed',
        message: `${label}: names not accepted: ${names.message ?? names.reason ?? ''}`
      }
    return condition(conditions, 'Established')?.status === 'True'
      ? { state: 'current', message: `${label} established` }
      : { state: 'in progress', message: `waiting for ${label} to be established` }
  }
  if (group === '' && obj.kind === 'Pod') return podReadiness(obj as Pod, ctx, label)
  if (group === '' && obj.kind === 'Service') {
    const spec = obj.spec as { type?: string } | undefined
    const ingress = (status.loadBalancer as { ingress?: unknown[] } | undefined)?.ingress ?? []
    if (spec?.type === 'LoadBalancer' && ingress.length === 0)
      return { state: 'in progress', message: `waiting for ${label} to get a load balancer address` }
    return { state: 'current', message: `${label} ready` }
  }
  return genericReadiness(obj, conditions, ctx, group, label)
}

function ruleReadiness(obj: KubeObject, rule: ReadinessRule, label: string): ObjectVerdict {
  const stale = staleGeneration(obj)
  if (stale) return { state: 'in progress', message: `${label}: ${stale}` }
  const failure = rule.failure.find(m => matches(obj, m))
  if (failure) {
    const why = failure.message ? valuesAt(obj, failure.message).join('; ') : ''
    return {
      state: 'failed',
      message: `${label} failed (${rule.source === 'shipped' ? 'shipped rule' : `rule at ${rule.source}`}: ${failure.path}${why ? `): ${why}` : ')'}`
    }
  }
  const pending = rule.success.find(m => !matches(obj, m))
  if (!pending) return { state: 'current', message: `${label} ready` }
  const now = valuesAt(obj, pending.path)
  return {
    state: 'in progress',
    message: `waiting for ${label}: ${pending.path} is ${now.length ? now.join(', ') : 'not set'}, wanted ${pending.equals ?? pending.in?.join(' or ') ?? pending.matches ?? (pending.exists === false ? 'unset' : 'set')}`
  }
}

function jobReadiness(
  job: KubeObject,
  conditions: Condition[],
  ctx: ReadinessContext,
  label: string
): ObjectVerdict {
  const status = (job.status ?? {}) as { active?: number; succeeded?: number; failed?: number }
  const spec = (job.spec ?? {}) as { suspend?: boolean; backoffLimit?: number; completions?: number }
  const complete = condition(conditions, 'Complete')
  if (complete?.status === 'True')
    return { state: 'current', message: `${label} complete (${status.succeeded ?? 0} succeeded)` }
  const failed = condition(conditions, 'Failed')
  if (failed?.status === 'True')
    return {
      state: 'failed',
      message: `${label} failed: ${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}`
    }
  if (spec.suspend)
    return { state: 'current', message: `${label} is suspended (a queue controller starts it)` }
  const pods = (ctx.pods ?? []).filter(p => isControlledBy(p, job) && p.status?.phase !== 'Failed')
  for (const pod of pods) {
    const doomed = doomedPodReason(pod, ctx.policy, ctx.now, ctx.evidence?.(pod))
    if (doomed && !EXIT_FAILURES.has(doomed.reason))
      return {
        state: 'failed',
        message: `${label}: pod ${doomed.pod} can never run: ${doomed.reason} (${doomed.message})`
      }
  }
  return {
    state: 'in progress',
    message: `waiting for ${label} to complete: ${status.active ?? 0} active, ${status.succeeded ?? 0} succeeded, ${status.failed ?? 0} failed (backoffLimit ${spec.backoffLimit ?? 6})`
  }
}

function podReadiness(pod: Pod, ctx: ReadinessContext, label: string): ObjectVerdict {
  const phase = pod.status?.phase
  if (phase === 'Succeeded') return { state: 'current', message: `${label} succeeded` }
  if (condition(pod.status?.conditions, 'Ready')?.status === 'True')
    return { state: 'current', message: `${label} ready` }
  const doomed = doomedPodReason(pod, ctx.policy, ctx.now, ctx.evidence?.(pod))
  if (doomed) return { state: 'failed', message: `${label} is doomed: ${doomed.reason} (${doomed.message})` }
  return { state: 'in progress', message: `waiting for ${label} to be Ready (phase ${phase ?? 'unknown'})` }
}

/** kstatus's generic rules. */
function genericReadiness(
  obj: KubeObject,
  conditions: Condition[],
  ctx: ReadinessContext,
  group: string,
  label: string
): ObjectVerdict {
  const stale = staleGeneration(obj)
  if (stale) return { state: 'in progress', message: `${label}: ${stale}` }
  // metav1.Condition says which generation it describes; older ones do not count.
  const fresh = conditions.filter(c => {
    const observed = (c as { observedGeneration?: unknown }).observedGeneration
    return typeof observed !== 'number' || observed >= (obj.metadata?.generation ?? 0)
  })
  for (const type of ['Stalled', 'Failed']) {
    const c = condition(fresh, type)
    if (c?.status === 'True')
      return {
        state: 'failed',
        message: `${label}: ${type}: ${c.reason ?? ''}${c.message ? `: ${c.message}` : ''}`
      }
  }
  const reconciling = condition(fresh, 'Reconciling')
  if (reconciling?.status === 'True')
    return {
      state: 'in progress',
      message: `${label} reconciling: ${reconciling.message ?? reconciling.reason ?? ''}`
    }
  for (const type of ['Ready', 'Available']) {
    const c = condition(fresh, type)
    if (c?.status === 'True') return { state: 'current', message: `${label} ready (${type})` }
    if (c)
      return {
        state: 'in progress',
        message: `waiting for ${label}: ${type} is ${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`
      }
  }
  if (conditions.length > fresh.length)
    return {
      state: 'in progress',
      message: `waiting for ${label}: its conditions describe an older generation`
    }
  const reported = obj.status && Object.keys(obj.status as object).length > 0
  if (!isBuiltInGroup(group) && ctx.hasStatus && !reported)
    return {
      state: 'in progress',
      message: `waiting for ${label}: its controller has not reported a status yet (is the controller of ${obj.kind}.${group} running?)`
    }
  return { state: 'current', message: `${label} ready` }
}

/** Set when the controller has not seen the object's latest generation yet. */
function staleGeneration(obj: KubeObject): string | undefined {
  const observed = Number((obj.status as { observedGeneration?: unknown } | undefined)?.observedGeneration)
  const generation = obj.metadata?.generation
  if (!Number.isFinite(observed) || generation === undefined || observed >= generation) return undefined
  return `waiting for its controller to observe generation ${generation} (observed ${observed})`
}
