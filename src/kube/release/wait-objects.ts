/**
 * The wait for the release's objects that are not workloads (Jobs, CRDs, custom resources, PVCs,
 * bare pods, LoadBalancer Services): each judged by readiness.ts, first on the object the apply
 * returned (most are ready at once and are never watched), then on a watch of it (and of a Job's
 * pods and their events) until it is ready, fails, the deadline passes or the release is aborted.
 */
import type { KubeClient } from '../client.js'
import { KubeClient as Client } from '../client.js'
import type { DoomPolicy } from '../doom.js'
import type { KubeEvent, KubeObject, LabelSelector, Pod } from '../objects.js'
import { isWorkload, selectorString } from '../objects.js'
import type { PodHistory } from '../pod-evidence.js'
import { observePods } from '../pod-evidence.js'
import type { ObjectVerdict, ReadinessContext } from '../readiness.js'
import { objectReadiness } from '../readiness.js'
import type { ReadinessRule } from '../readiness-rules.js'
import { podEvidence } from '../verdict.js'
import { podEventsWatch } from '../wait.js'
import type { Decision } from './wait-for.js'
import { waitFor } from './wait-for.js'

export interface ObjectRef {
  apiVersion: string
  kind: string
  name: string
  namespace?: string
}

/** An applied object to wait for: what the apply returned, and where it lives. */
export interface ObjectToWaitFor {
  ref: ObjectRef
  /** The collection it is in (REST path). */
  collection: string
  /** The kind has a status subresource. */
  hasStatus: boolean
  applied: KubeObject
}

export interface ObjectWait {
  ref: ObjectRef
  verdict: ObjectVerdict
  /** True when it never had to be watched (ready as applied). */
  immediate: boolean
  /** When the verdict was reached (epoch ms). */
  at: number
  /** The object as last seen, and a Job's pods (for the diagnostics). */
  object?: KubeObject
  pods?: Pod[]
}

export interface ObjectWaitOptions {
  deadline: number
  rules: readonly ReadinessRule[]
  policy: DoomPolicy
  log: (line: string) => void
  /** Aborted when another part of the release fails; this wait then ends with its last verdict. */
  release?: AbortController
}

/** The objects of an apply the object wait judges: every one that is not a rolled-out workload. */
export function objectsToWaitFor(
  applied: readonly { after: KubeObject; path: string; hasStatus: boolean }[]
): ObjectToWaitFor[] {
  return applied
    .filter(a => !isWorkload(a.after))
    .map(a => ({
      ref: {
        apiVersion: a.after.apiVersion ?? '',
        kind: a.after.kind ?? '',
        name: a.after.metadata?.name ?? '',
        namespace: a.after.metadata?.namespace
      },
      collection: a.path.slice(0, a.path.lastIndexOf('/')),
      hasStatus: a.hasStatus,
      applied: a.after
    }))
}

export function waitForObjects(
  client: KubeClient,
  objects: readonly ObjectToWaitFor[],
  options: ObjectWaitOptions
): Promise<ObjectWait[]> {
  return Promise.all(
    objects.map(async o => {
      const wait = await waitForObject(client, o, options)
      if (wait.verdict.state === 'failed') options.release?.abort()
      return wait
    })
  )
}

async function waitForObject(
  client: KubeClient,
  o: ObjectToWaitFor,
  options: ObjectWaitOptions
): Promise<ObjectWait> {
  const label = `${o.ref.kind.toLowerCase()}/${o.ref.name}`
  const context = (extra: Partial<ReadinessContext> = {}): ReadinessContext => ({
    rules: options.rules,
    hasStatus: o.hasStatus,
    policy: options.policy,
    now: Date.now(),
    ...extra
  })
  // Most objects are ready as applied (no status to wait for) and are never watched.
  const first = objectReadiness(o.applied, context())
  if (first.state !== 'in progress')
    return { ref: o.ref, verdict: first, immediate: true, at: Date.now(), object: o.applied }
  let history = new Map<string, PodHistory>()
  let lastLine = ''
  const wait = await waitFor<KubeObject, { pods: Pod[]; events: KubeEvent[] }, ObjectVerdict>(client, {
    watch: { path: o.collection, fieldSelector: `metadata.name=${o.ref.name}` },
    related: watched => {
      const job = watched.find(w => w.metadata?.name === o.ref.name)
      const selector = (job?.spec as { selector?: LabelSelector } | undefined)?.selector
      if (o.ref.kind !== 'Job' || !selector || !o.ref.namespace) return undefined
      return {
        pods: {
          path: Client.collectionPath('v1', 'pods', o.ref.namespace),
          labelSelector: selectorString(selector)
        },
        events: podEventsWatch(o.ref.namespace)
      }
    },
    decide: (watched, { pods = [], events }, now) => {
      const obj = watched.find(w => w.metadata?.name === o.ref.name)
      if (!obj) return { state: 'failed', reason: `${label} was deleted during the release` }
      history = observePods(history, pods, now)
      const verdict = objectReadiness(obj, context({ pods, evidence: podEvidence({ history, events }), now }))
      return decisionOf(verdict)
    },
    onDecision: d => {
      const line = d.state === 'pending' && d.value ? d.value.message : ''
      if (line && line !== lastLine) options.log(line)
      lastLine = line
    },
    onNotice: m => options.log(`${label}: ${m}`),
    deadline: options.deadline,
    signal: options.release?.signal
  })
  const last = wait.decision?.value ?? first
  let verdict: ObjectVerdict = last
  if (wait.end === 'timed out')
    verdict = { state: 'failed', message: `timed out waiting for ${label}: ${last.message}` }
  else if (wait.end === 'watch failed')
    verdict = { state: 'failed', message: `watching ${label} failed: ${wait.error.message}` }
  else if (wait.decision?.state === 'failed' && !wait.decision.value)
    verdict = { state: 'failed', message: wait.decision.reason }
  if (verdict.state === 'current') options.log(verdict.message)
  return {
    ref: o.ref,
    verdict,
    immediate: false,
    at: wait.at,
    object: wait.watched.find(w => w.metadata?.name === o.ref.name) ?? o.applied,
    pods: wait.related.pods
  }
}

function decisionOf(verdict: ObjectVerdict): Decision<ObjectVerdict> {
  if (verdict.state === 'current') return { state: 'done', value: verdict }
  if (verdict.state === 'failed') return { state: 'failed', reason: verdict.message, value: verdict }
  return { state: 'pending', value: verdict }
}
