/**
 * Rollout status viewers, one per kind: pure functions from the object the API server returned to
 * (message, done, error), judged in the same order and with the same rules as kubectl's
 * `rollout status` (pkg/polymorphichelpers/rollout_status.go). An error means the rollout cannot
 * finish by waiting longer.
 */
import type { DaemonSet, Deployment, KubeObject, StatefulSet } from './objects.js'
import { condition } from './objects.js'

export interface RolloutStatus {
  message: string
  done: boolean
  /** Set when waiting longer cannot help (progress deadline exceeded, paused, wrong strategy). */
  error?: string
  /** Counters for progress lines and the timeline. */
  progress?: { desired: number; updated: number; ready?: number; available: number }
}

/** The reason the Deployment controller sets when spec.progressDeadlineSeconds runs out. */
export const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded'

export function deploymentStatus(d: Deployment): RolloutStatus {
  const name = d.metadata?.name ?? ''
  const generation = d.metadata?.generation ?? 0
  const status = d.status ?? {}
  const desired = d.spec?.replicas ?? 1
  const progress = {
    desired,
    updated: status.updatedReplicas ?? 0,
    ready: status.readyReplicas ?? 0,
    available: status.availableReplicas ?? 0
  }
  if (generation <= (status.observedGeneration ?? 0)) {
    const progressing = condition(status.conditions, 'Progressing')
    if (progressing?.reason === PROGRESS_DEADLINE_EXCEEDED) {
      return {
        message: `deployment "${name}" exceeded its progress deadline`,
        done: false,
        error: `deployment "${name}" exceeded its progress deadline`,
        progress
      }
    }
    const updated = status.updatedReplicas ?? 0
    const replicas = status.replicas ?? 0
    const available = status.availableReplicas ?? 0
    const waiting =
      d.spec?.replicas !== undefined && updated < d.spec.replicas
        ? `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${d.spec.replicas} new replicas have been updated...`
        : replicas > updated
          ? `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...`
          : available < updated
            ? `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`
            : undefined
    if (waiting) {
      // kubectl would wait here until its own timeout; a paused Deployment never progresses. One
      // that is already fully rolled out is complete, paused or not, as kubectl says.
      if (d.spec?.paused) {
        const error = `deployment "${name}" is paused, so its rollout cannot progress; resume it (kubectl rollout resume deployment/${name}) or remove spec.paused`
        return { message: error, done: false, error, progress }
      }
      return { message: waiting, done: false, progress }
    }
    return { message: `deployment "${name}" successfully rolled out`, done: true, progress }
  }
  return { message: 'Waiting for deployment spec update to be observed...', done: false, progress }
}

export function statefulSetStatus(s: StatefulSet): RolloutStatus {
  const strategy = s.spec?.updateStrategy
  const status = s.status ?? {}
  const desired = s.spec?.replicas ?? 1
  const progress = {
    desired,
    updated: status.updatedReplicas ?? 0,
    ready: status.readyReplicas ?? 0,
    available: status.availableReplicas ?? 0
  }
  if ((strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') {
    const error = 'rollout status is only available for RollingUpdate strategy type'
    return { message: error, done: false, error, progress }
  }
  if (!status.observedGeneration || (s.metadata?.generation ?? 0) > status.observedGeneration) {
    return { message: 'Waiting for statefulset spec update to be observed...', done: false, progress }
  }
  const ready = status.readyReplicas ?? 0
  if (s.spec?.replicas !== undefined && ready < s.spec.replicas) {
    return { message: `Waiting for ${s.spec.replicas - ready} pods to be ready...`, done: false, progress }
  }
  const updated = status.updatedReplicas ?? 0
  if (strategy?.rollingUpdate) {
    const partition = strategy.rollingUpdate.partition
    if (s.spec?.replicas !== undefined && partition !== undefined && updated < s.spec.replicas - partition) {
      return {
        message: `Waiting for partitioned roll out to finish: ${updated} out of ${s.spec.replicas - partition} new pods have been updated...`,
        done: false,
        progress: { ...progress, desired: s.spec.replicas - partition }
      }
    }
    return {
      message: `partitioned roll out complete: ${updated} new pods have been updated...`,
      done: true,
      progress
    }
  }
  if (status.updateRevision !== status.currentRevision) {
    return {
      message: `waiting for statefulset rolling update to complete ${updated} pods at revision ${status.updateRevision}...`,
      done: false,
      progress
    }
  }
  return {
    message: `statefulset rolling update complete ${status.currentReplicas ?? 0} pods at revision ${status.currentRevision}...`,
    done: true,
    progress
  }
}

export function daemonSetStatus(ds: DaemonSet): RolloutStatus {
  const name = ds.metadata?.name ?? ''
  const status = ds.status ?? {}
  const desired = status.desiredNumberScheduled ?? 0
  const progress = {
    desired,
    updated: status.updatedNumberScheduled ?? 0,
    ready: status.numberReady ?? 0,
    available: status.numberAvailable ?? 0
  }
  if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') {
    const error = 'rollout status is only available for RollingUpdate strategy type'
    return { message: error, done: false, error, progress }
  }
  if ((ds.metadata?.generation ?? 0) <= (status.observedGeneration ?? 0)) {
    const updated = status.updatedNumberScheduled ?? 0
    const available = status.numberAvailable ?? 0
    if (updated < desired) {
      return {
        message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
        done: false,
        progress
      }
    }
    if (available < desired) {
      return {
        message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`,
        done: false,
        progress
      }
    }
    return { message: `daemon set "${name}" successfully rolled out`, done: true, progress }
  }
  return { message: 'Waiting for daemon set spec update to be observed...', done: false, progress }
}

/** The viewer for the object's kind. */
export function rolloutStatus(obj: KubeObject): RolloutStatus {
  switch (obj.kind) {
    case 'Deployment':
      return deploymentStatus(obj as Deployment)
    case 'StatefulSet':
      return statefulSetStatus(obj as StatefulSet)
    case 'DaemonSet':
      return daemonSetStatus(obj as DaemonSet)
    default:
      return {
        message: `no rollout status for kind ${obj.kind}`,
        done: false,
        error: `no rollout status for kind ${obj.kind}`
      }
  }
}

/** `2/3 updated, 1/3 available`: the progress line printed while waiting. */
export function progressLine(status: RolloutStatus): string {
  const p = status.progress
  if (!p) return status.message
  const ready = p.ready === undefined ? '' : `, ${p.ready}/${p.desired} ready`
  return `${p.updated}/${p.desired} updated${ready}, ${p.available}/${p.desired} available`
}
