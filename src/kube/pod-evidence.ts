/**
 * What a wait knows about a pod besides the pod object itself, as pure functions: the history of
 * its observable state across the wait (when it last changed, and since when each container waits
 * for its current reason), and the events about it. The doom rules read a pod's progress from these:
 * a pod is only ever given up on for standing still, never for being slow.
 */
import type { KubeEvent, Pod } from './objects.js'
import { containerStatusesOf, eventTimes } from './objects.js'

/** One event about a pod, reduced to what the rules read. */
export interface PodEvent {
  reason: string
  type: string
  message: string
  /** When it last happened (epoch ms). */
  at: number
}

export interface PodHistory {
  fingerprint: string
  /** When this wait saw the pod's state change (epoch ms); absent until it changes under watch. */
  changedAt?: number
  /** Per container: its waiting reason and since when this wait has seen it (epoch ms). */
  waitingSince: Record<string, { reason: string; since: number }>
}

export interface PodEvidence {
  history?: PodHistory
  /** Events about the pod, oldest first. */
  events?: readonly PodEvent[]
}

/**
 * Events that mean a pod moved forward: the scheduler placed it or a node is coming for it, the
 * kubelet pulled, created or started something, a volume was attached. Warnings (BackOff,
 * Unhealthy, FailedMount) are not progress.
 */
export const PROGRESS_EVENTS: ReadonlySet<string> = new Set([
  'Scheduled',
  'TriggeredScaleUp',
  'Nominated',
  'Pulling',
  'Pulled',
  'Created',
  'Started',
  'SuccessfulAttachVolume',
  'SuccessfulMountVolume'
])

/** What of a pod's status counts as a change: phase, conditions, each container's state, restarts, readiness. */
export function podFingerprint(pod: Pod): string {
  const s = pod.status ?? {}
  const containers = containerStatusesOf(pod).map(c => {
    const state = c.state ?? {}
    const key = state.running ? 'running' : state.terminated ? 'terminated' : state.waiting ? 'waiting' : ''
    const reason = state.waiting?.reason ?? state.terminated?.reason ?? ''
    return [c.name, key, reason, c.restartCount ?? 0, c.ready ?? false, c.started ?? false]
  })
  const conditions = (s.conditions ?? []).map(c => [c.type, c.status, c.reason ?? ''])
  return JSON.stringify([s.phase ?? '', conditions, containers])
}

/** The history after one more look at the pods (keyed by uid, else name). Pods no longer seen drop out. */
export function observePods(
  previous: ReadonlyMap<string, PodHistory>,
  pods: readonly Pod[],
  now: number
): Map<string, PodHistory> {
  const next = new Map<string, PodHistory>()
  for (const pod of pods) {
    const key = podKey(pod)
    const before = previous.get(key)
    const fingerprint = podFingerprint(pod)
    const waitingSince: PodHistory['waitingSince'] = {}
    for (const c of containerStatusesOf(pod)) {
      const reason = c.state?.waiting?.reason
      if (!reason) continue
      const seen = before?.waitingSince[c.name]
      waitingSince[c.name] = seen?.reason === reason ? seen : { reason, since: now }
    }
    const changedAt = before && before.fingerprint !== fingerprint ? now : before?.changedAt
    next.set(key, { fingerprint, changedAt, waitingSince })
  }
  return next
}

export function podKey(pod: Pod): string {
  return pod.metadata?.uid ?? pod.metadata?.name ?? ''
}

/** The events about each pod (by uid; events that name no uid by `name:<pod>`), oldest first. */
export function eventsByPod(events: readonly KubeEvent[]): Map<string, PodEvent[]> {
  const byPod = new Map<string, PodEvent[]>()
  for (const e of events) {
    const involved = e.involvedObject
    if (involved?.kind !== 'Pod') continue
    const at = eventTime(e)
    if (!Number.isFinite(at)) continue
    const event = { reason: e.reason ?? '', type: e.type ?? 'Normal', message: e.message ?? '', at }
    // By uid when the event names one: a pod recreated under the same name (a StatefulSet's) must
    // not inherit the events of the one before it.
    const key = involved.uid ? involved.uid : `name:${involved.name ?? ''}`
    const list = byPod.get(key) ?? []
    list.push(event)
    byPod.set(key, list)
  }
  for (const list of byPod.values()) list.sort((a, b) => a.at - b.at)
  return byPod
}

/** The evidence about one pod from the history and the events of a wait. */
export function evidenceFor(
  pod: Pod,
  history: ReadonlyMap<string, PodHistory> | undefined,
  events: ReadonlyMap<string, PodEvent[]> | undefined
): PodEvidence {
  const uid = pod.metadata?.uid
  const byUid = (uid && events?.get(uid)) || []
  const byName = events?.get(`name:${pod.metadata?.name ?? ''}`) ?? []
  return {
    history: history?.get(podKey(pod)),
    events: byName.length ? [...byUid, ...byName].sort((a, b) => a.at - b.at) : byUid
  }
}

/** When an event last happened: a series' last observation, lastTimestamp, eventTime, or its creation. */
export function eventTime(e: KubeEvent): number {
  for (const c of eventTimes(e)) {
    const t = c ? Date.parse(c) : NaN
    if (Number.isFinite(t)) return t
  }
  return NaN
}
