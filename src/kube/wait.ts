/**
 * Waits for one workload's rollout with watches (the workload, its ReplicaSets for a Deployment,
 * its pods), judging every change with the pure `waitVerdict`. Prints a progress line whenever the
 * counts change. Ends on complete, failed (doomed pods, progress deadline, paused) or the deadline.
 */
import type { KubeClient } from './client.js'
import { KubeClient as Client } from './client.js'
import type { DoomPolicy } from './doom.js'
import type { KubeEvent, KubeObject, LabelSelector, Pod, ReplicaSet, WorkloadKind } from './objects.js'
import type { PodHistory } from './pod-evidence.js'
import { observePods } from './pod-evidence.js'
import { selectorString } from './objects.js'
import type { Decision, WaitEnd, Watch } from './release/wait-for.js'
import { waitFor } from './release/wait-for.js'
import { progressLine } from './status.js'
import type { WaitVerdict } from './verdict.js'
import { waitVerdict } from './verdict.js'

export interface WaitTarget {
  kind: WorkloadKind
  name: string
  namespace: string
}

export interface WaitOptions {
  deadline: number
  policy: DoomPolicy
  tolerance: number
  log: (line: string) => void
  /** Time between progress lines that repeat an unchanged state. */
  heartbeatMs?: number
  /** Ends the wait early (another workload of the release failed); the verdict stays `waiting`. */
  signal?: AbortSignal
}

export interface WaitResult {
  verdict: WaitVerdict
  timedOut: boolean
  workload: KubeObject | undefined
  replicaSets: ReplicaSet[]
  pods: Pod[]
  /** When the verdict was reached (epoch ms). */
  at: number
  relists: number
  reconnects: number
}

const RESOURCES: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets'
}

/** The REST collection of a workload kind in a namespace. */
export function workloadCollection(kind: WorkloadKind, namespace: string): string {
  return Client.collectionPath('apps/v1', RESOURCES[kind], namespace)
}

export async function waitForRollout(
  client: KubeClient,
  target: WaitTarget,
  options: WaitOptions
): Promise<WaitResult> {
  const label = `${target.kind.toLowerCase()}/${target.name}`
  const workloadOf = (objects: KubeObject[]) => objects.find(o => o.metadata?.name === target.name)
  let history = new Map<string, PodHistory>()
  let lastLine = ''
  let lastPrinted = 0
  const wait = await waitFor<
    KubeObject,
    { pods: Pod[]; replicaSets: ReplicaSet[]; events: KubeEvent[] },
    WaitVerdict
  >(client, {
    watch: {
      path: workloadCollection(target.kind, target.namespace),
      fieldSelector: `metadata.name=${target.name}`
    },
    // The pod and ReplicaSet watches need the selector, known once the workload is seen.
    related: workloads => {
      const selector = (workloadOf(workloads)?.spec as { selector?: LabelSelector } | undefined)?.selector
      if (!selector) return undefined
      const labelSelector = selectorString(selector)
      const pods = { path: Client.collectionPath('v1', 'pods', target.namespace), labelSelector }
      const events = podEventsWatch(target.namespace)
      if (target.kind !== 'Deployment') return { pods, events }
      return {
        pods,
        events,
        replicaSets: {
          path: Client.collectionPath('apps/v1', 'replicasets', target.namespace),
          labelSelector
        }
      }
    },
    decide: (workloads, { pods = [], replicaSets = [], events }, now) => {
      history = observePods(history, pods, now)
      return decisionOf(
        waitVerdict(
          { workload: workloadOf(workloads), replicaSets, pods, history, events },
          options.policy,
          options.tolerance,
          now
        )
      )
    },
    onDecision: ({ state, value }) => {
      const line =
        state === 'pending' && value
          ? `${label}: ${progressLine(value.status)} (${value.status.message})`
          : ''
      if (line && (line !== lastLine || Date.now() - lastPrinted > (options.heartbeatMs ?? 15_000))) {
        options.log(line)
        lastLine = line
        lastPrinted = Date.now()
      }
    },
    onNotice: m => options.log(`${label}: ${m}`),
    deadline: options.deadline,
    signal: options.signal
  })
  const verdict = finalVerdict(label, wait, wait.decision?.value)
  // Printed the moment the verdict is reached (the rollout benchmark times it).
  if (verdict.state === 'failed') options.log(`${label}: failed: ${verdict.reason ?? ''}`)
  return {
    verdict,
    timedOut: wait.end === 'timed out',
    workload: workloadOf(wait.watched),
    replicaSets: wait.related.replicaSets ?? [],
    pods: wait.related.pods ?? [],
    at: wait.at,
    relists: wait.relists,
    reconnects: wait.reconnects
  }
}

/**
 * Waits for every workload of a release at once: a release is one unit, the first workload that
 * fails ends the wait of the others (and of anything else sharing `release`).
 */
export async function waitForRelease(
  client: KubeClient,
  targets: readonly WaitTarget[],
  options: Omit<WaitOptions, 'signal'>,
  release = new AbortController()
): Promise<WaitResult[]> {
  return Promise.all(
    targets.map(async target => {
      const wait = await waitForRollout(client, target, { ...options, signal: release.signal })
      if (wait.verdict.state === 'failed') release.abort()
      return wait
    })
  )
}

/** The events about the namespace's pods: progress evidence (pulls, scale-ups); the wait goes on without them when it may not read events. */
export function podEventsWatch(namespace: string): Watch {
  return {
    path: Client.collectionPath('v1', 'events', namespace),
    fieldSelector: 'involvedObject.kind=Pod',
    optional: true
  }
}

function decisionOf(verdict: WaitVerdict): Decision<WaitVerdict> {
  if (verdict.state === 'waiting') return { state: 'pending', value: verdict }
  if (verdict.state === 'complete') return { state: 'done', value: verdict }
  return { state: 'failed', reason: verdict.reason ?? 'failed', value: verdict }
}

/**
 * The verdict a wait ends with: the last one seen, turned failed when the deadline passed or a
 * watch broke. A wait another workload's failure stopped keeps its last (waiting) verdict.
 */
export function finalVerdict(label: string, end: WaitEnd, last: WaitVerdict | undefined): WaitVerdict {
  const v = last ?? placeholder()
  if (end.end === 'timed out')
    return { ...v, state: 'failed', reason: `timed out waiting for ${label}: ${v.status.message}` }
  if (end.end === 'watch failed')
    return { ...v, state: 'failed', reason: `watching ${label} failed: ${end.error.message}` }
  return v
}

function placeholder(): WaitVerdict {
  return {
    state: 'waiting',
    status: { message: 'no status seen yet', done: false },
    newPods: [],
    doom: { doomed: [], failed: false }
  }
}
