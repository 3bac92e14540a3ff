/**
 * Is a pod doomed? A pod is doomed when waiting longer will not make it Ready: its containers are
 * crash-looping, cannot pull or start their image, keep being OOM-killed, or it stayed not Ready
 * past a grace period. A rollout is failed as soon as more new pods are doomed than tolerated,
 * long before the Deployment's progress deadline.
 */
import type { ContainerStatus, Pod } from './objects.js'
import { condition } from './objects.js'

export interface DoomPolicy {
  /** How long a pod may be not Ready without a failure reason before it is doomed. */
  notReadyGraceMs: number
  /** restartCount from which repeated OOMKilled terminations doom the pod. */
  oomRestarts: number
}

export interface DoomedPod {
  pod: string
  container?: string
  reason: string
  message: string
}

/** Waiting reasons from which a container does not recover by itself. */
export const FATAL_WAITING_REASONS: ReadonlySet<string> = new Set([
  'CrashLoopBackOff',
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'ErrImageNeverPull',
  'RunContainerError'
])

/**
 * Termination reasons of a container that could not start at all (a missing binary, exec format
 * error: exit 127/128), in its current or last state: restarting runs the same image again.
 * ContainerCannotRun is Docker's, StartError containerd's.
 */
export const FATAL_TERMINATED_REASONS: ReadonlySet<string> = new Set(['ContainerCannotRun', 'StartError'])

export function doomedPodReason(pod: Pod, policy: DoomPolicy, now: number): DoomedPod | undefined {
  const name = pod.metadata?.name ?? '?'
  if (pod.metadata?.deletionTimestamp) return undefined
  const status = pod.status ?? {}
  if (status.phase === 'Failed') {
    return { pod: name, reason: status.reason ?? 'Failed', message: status.message ?? 'the pod failed' }
  }
  const statuses: [ContainerStatus, boolean][] = [
    ...(status.initContainerStatuses ?? []).map(s => [s, true] as [ContainerStatus, boolean]),
    ...(status.containerStatuses ?? []).map(s => [s, false] as [ContainerStatus, boolean])
  ]
  for (const [cs, init] of statuses) {
    const doomed = doomedContainer(cs, policy)
    if (doomed)
      return {
        pod: name,
        container: cs.name,
        reason: doomed.reason,
        message: `${init ? 'init ' : ''}container ${cs.name}: ${doomed.message}`
      }
  }
  const ready = condition(status.conditions, 'Ready')
  if (ready?.status === 'True') return undefined
  const created = Date.parse(pod.metadata?.creationTimestamp ?? '')
  if (Number.isFinite(created) && now - created > policy.notReadyGraceMs) {
    const why =
      ready?.message ??
      ready?.reason ??
      condition(status.conditions, 'PodScheduled')?.message ??
      `phase ${status.phase ?? 'unknown'}`
    return {
      pod: name,
      reason: 'NotReady',
      message: `not Ready ${Math.round((now - created) / 1000)}s after creation (grace ${Math.round(policy.notReadyGraceMs / 1000)}s): ${why}`
    }
  }
  return undefined
}

function doomedContainer(
  cs: ContainerStatus,
  policy: DoomPolicy
): { reason: string; message: string } | undefined {
  const waiting = cs.state?.waiting
  const restarts = cs.restartCount ?? 0
  const lastTerminated = cs.lastState?.terminated
  if (waiting?.reason && FATAL_WAITING_REASONS.has(waiting.reason)) {
    const parts: string[] = []
    if (waiting.message) parts.push(waiting.message)
    if (waiting.reason === 'CrashLoopBackOff' && lastTerminated) {
      parts.push(
        `last exit code ${lastTerminated.exitCode ?? '?'}${lastTerminated.reason ? ` (${lastTerminated.reason})` : ''}, ${restarts} restarts`
      )
    }
    // An OOM kill loop shows as CrashLoopBackOff; name the real cause.
    const reason =
      waiting.reason === 'CrashLoopBackOff' && lastTerminated?.reason === 'OOMKilled'
        ? 'OOMKilled'
        : waiting.reason
    return { reason, message: parts.join('; ') || waiting.reason }
  }
  const cannotRun = [cs.state?.terminated, lastTerminated].find(
    t => t?.reason !== undefined && FATAL_TERMINATED_REASONS.has(t.reason)
  )
  if (cannotRun) {
    return {
      reason: cannotRun.reason!,
      message: `${cannotRun.message ? `${cannotRun.message}; ` : ''}exit code ${cannotRun.exitCode ?? '?'}, ${restarts} restarts`
    }
  }
  // A container that is Ready again after OOM kills has recovered (its history alone dooms nothing).
  const oom = [cs.state?.terminated?.reason, lastTerminated?.reason].includes('OOMKilled')
  if (oom && !cs.ready && restarts >= policy.oomRestarts) {
    return {
      reason: 'OOMKilled',
      message: `OOMKilled ${restarts} times; raise its memory limit or find the leak`
    }
  }
  return undefined
}

export interface DoomVerdict {
  doomed: DoomedPod[]
  /** True when more pods are doomed than tolerated: the rollout cannot succeed. */
  failed: boolean
}

export function rolloutDoom(
  pods: readonly Pod[],
  policy: DoomPolicy,
  tolerance: number,
  now: number
): DoomVerdict {
  const doomed = pods.map(p => doomedPodReason(p, policy, now)).filter((d): d is DoomedPod => d !== undefined)
  doomed.sort((a, b) => a.pod.localeCompare(b.pod))
  return { doomed, failed: doomed.length > tolerance }
}

/** One line for `failure-reason`: the first doomed pod and how many others share its fate. */
export function doomSummary(verdict: DoomVerdict): string {
  const first = verdict.doomed[0]
  if (!first) return ''
  const others = verdict.doomed.length - 1
  return `pod ${first.pod} is doomed (${first.reason}: ${first.message})${others > 0 ? ` and ${others} more pod${others > 1 ? 's' : ''}` : ''}`
}
