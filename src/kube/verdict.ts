/**
 * The verdict of a rollout at one instant, as a pure function of what the API server says: the
 * kind's status viewer (kubectl's rules), and the doomed-pod check over the new revision's pods.
 */
import type { DoomPolicy, DoomVerdict } from './doom.js'
import { rolloutDoom } from './doom.js'
import type { DaemonSet, Deployment, KubeEvent, KubeObject, Pod, ReplicaSet, StatefulSet } from './objects.js'
import type { PodEvidence, PodHistory } from './pod-evidence.js'
import { eventsByPod, evidenceFor } from './pod-evidence.js'
import { isControlledBy, selectorMatches } from './objects.js'
import { POD_TEMPLATE_HASH, revisionOf, templatesEqualIgnoringHash } from './rollback.js'
import type { RolloutStatus } from './status.js'
import { rolloutStatus } from './status.js'

export interface WaitSnapshot {
  workload: KubeObject | undefined
  replicaSets: readonly ReplicaSet[]
  pods: readonly Pod[]
  /** What the wait saw of each pod over time (pod-evidence.ts), by uid. */
  history?: ReadonlyMap<string, PodHistory>
  /** Events about pods of the namespace, when the wait may read them. */
  events?: readonly KubeEvent[]
}

export type WaitState = 'waiting' | 'complete' | 'failed'

export interface WaitVerdict {
  state: WaitState
  status: RolloutStatus
  newPods: Pod[]
  doom: DoomVerdict
  /** One line: why the rollout failed. */
  reason?: string
  /** Deployment only: the ReplicaSet of the current template. */
  newReplicaSet?: ReplicaSet
}

/** The Deployment controller's choice: the owned ReplicaSet whose template equals the Deployment's. */
export function newReplicaSetOf(
  deployment: Deployment,
  replicaSets: readonly ReplicaSet[]
): ReplicaSet | undefined {
  const owned = replicaSets.filter(rs => isControlledBy(rs, deployment))
  const matching = owned.filter(rs =>
    templatesEqualIgnoringHash(rs.spec?.template ?? {}, deployment.spec?.template ?? {})
  )
  if (matching.length > 0) {
    // Several can match after a hash collision; the controller takes the oldest.
    return [...matching].sort((a, b) =>
      (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '')
    )[0]
  }
  const revision = revisionOf(deployment)
  return revision > 0 ? owned.find(rs => revisionOf(rs) === revision) : undefined
}

/** The pods of the revision being rolled out (the ones whose health decides the rollout). */
export function newPodsOf(
  workload: KubeObject,
  replicaSets: readonly ReplicaSet[],
  pods: readonly Pod[]
): { pods: Pod[]; newReplicaSet?: ReplicaSet } {
  const live = pods.filter(p => !p.metadata?.deletionTimestamp)
  switch (workload.kind) {
    case 'Deployment': {
      const d = workload as Deployment
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return { pods: [] }
      const rs = newReplicaSetOf(d, replicaSets)
      const hash = rs?.metadata?.labels?.[POD_TEMPLATE_HASH]
      if (!rs || !hash) return { pods: [] }
      return {
        pods: live.filter(p => p.metadata?.labels?.[POD_TEMPLATE_HASH] === hash && isControlledBy(p, rs)),
        newReplicaSet: rs
      }
    }
    case 'StatefulSet': {
      const s = workload as StatefulSet
      const revision = s.status?.updateRevision
      if (!revision || (s.status?.observedGeneration ?? 0) < (s.metadata?.generation ?? 0))
        return { pods: [] }
      return {
        pods: live.filter(
          p => p.metadata?.labels?.['controller-revision-hash'] === revision && isControlledBy(p, s)
        )
      }
    }
    case 'DaemonSet': {
      const ds = workload as DaemonSet
      if ((ds.status?.observedGeneration ?? 0) < (ds.metadata?.generation ?? 0)) return { pods: [] }
      const generation = String(ds.metadata?.generation ?? '')
      return {
        pods: live.filter(
          p => p.metadata?.labels?.['pod-template-generation'] === generation && isControlledBy(p, ds)
        )
      }
    }
    default:
      return {
        pods: live.filter(p =>
          selectorMatches((workload.spec as { selector?: never })?.selector, p.metadata?.labels)
        )
      }
  }
}

export function waitVerdict(
  snapshot: WaitSnapshot,
  policy: DoomPolicy,
  tolerance: number,
  now: number
): WaitVerdict {
  const noDoom: DoomVerdict = { doomed: [], failed: false }
  if (!snapshot.workload) {
    const status = {
      message: 'the workload does not exist (deleted during the rollout?)',
      done: false,
      error: 'the workload was deleted'
    }
    return { state: 'failed', status, newPods: [], doom: noDoom, reason: status.message }
  }
  const status = rolloutStatus(snapshot.workload)
  const evidence = podEvidence(snapshot)
  const { pods, newReplicaSet } = newPodsOf(snapshot.workload, snapshot.replicaSets, snapshot.pods)
  if (status.done) return { state: 'complete', status, newPods: pods, doom: noDoom, newReplicaSet }
  if (status.error)
    return {
      state: 'failed',
      status,
      newPods: pods,
      doom: rolloutDoom(pods, policy, Infinity, now, evidence),
      reason: status.error,
      newReplicaSet
    }
  const doom = rolloutDoom(pods, policy, tolerance, now, evidence)
  if (doom.failed) {
    const first = doom.doomed[0]!
    const more = doom.doomed.length - 1
    const reason = `pod ${first.pod} is doomed: ${first.reason} (${first.message})${more > 0 ? ` and ${more} more new pod${more > 1 ? 's are' : ' is'} doomed` : ''}`
    return { state: 'failed', status, newPods: pods, doom, reason, newReplicaSet }
  }
  return { state: 'waiting', status, newPods: pods, doom, newReplicaSet }
}

/** The evidence about each pod of a snapshot: its history under watch and the events about it. */
export function podEvidence(snapshot: Pick<WaitSnapshot, 'history' | 'events'>): (pod: Pod) => PodEvidence {
  const events = snapshot.events ? eventsByPod(snapshot.events) : undefined
  return pod => evidenceFor(pod, snapshot.history, events)
}
