/**
 * Is a pod doomed? A pod is doomed when waiting longer will not make it Ready: a container that
 * crash-loops, cannot pull or start its image or keeps being OOM-killed, a scheduler and an
 * autoscaler that both say no, or a pod that has stood still (no progress at all) past a grace
 * period. A slow pod that is moving (pulling a large image, running a long init container, inside
 * its startup probe's budget, waiting for a node being added or for a readiness gate) is never
 * doomed: the workload's own progress deadline and the release's timeout bound those. Every rule
 * is a pure function of the pod and the evidence a wait gathered about it (pod-evidence.ts).
 */
import type { ContainerStatus, Pod } from './objects.js'
import { condition, containerStatusesOf } from './objects.js'
import type { PodEvent, PodEvidence } from './pod-evidence.js'
import { PROGRESS_EVENTS } from './pod-evidence.js'

export interface DoomPolicy {
  /** How long a pod may be not Ready without any progress and without a failure reason before it is doomed. */
  notReadyGraceMs: number
  /** restartCount from which repeated OOMKilled terminations doom the pod. */
  oomRestarts: number
  /** Non-zero exits of a container tolerated before its pod is doomed (0, the default: the first dooms it). */
  crashTolerance?: number
}

export interface DoomedPod {
  pod: string
  container?: string
  reason: string
  message: string
}

/** Waiting reasons from which a container does not recover by itself (unless the cause is transient). */
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

/**
 * Causes the kubelet retries and that usually clear by themselves: a slow secret or configmap
 * cache, a runtime timeout, a registry that is briefly unreachable or rate-limiting. A container
 * waiting for one of these is doomed only when it persists past the grace period.
 */
const TRANSIENT_CAUSES: Record<string, RegExp> = {
  CreateContainerConfigError: /failed to sync (secret|configmap) cache|timed out waiting for the condition/i,
  CreateContainerError:
    /context deadline exceeded|DeadlineExceeded|resource temporarily unavailable|failed to reserve container name/i,
  ErrImagePull:
    /timeout|timed out|deadline exceeded|connection (refused|reset)|\bEOF\b|too ?many ?requests|\b429\b|\b50[0234]\b|service unavailable|TLS handshake|temporary failure|no route to host|network is unreachable/i,
  ImagePullBackOff:
    /timeout|timed out|deadline exceeded|connection (refused|reset)|\bEOF\b|too ?many ?requests|\b429\b|\b50[0234]\b|service unavailable|TLS handshake|temporary failure|no route to host|network is unreachable/i
}

/** Pull failures that no retry fixes; they win over a transient-looking word in the same message. */
const PERMANENT_PULL =
  /not found|manifest unknown|unauthorized|denied|forbidden|no match for platform|invalid reference/i

/** Pod failure reasons of disruptions the controller answers with a new pod (not the release's fault). */
const DISRUPTIONS: ReadonlySet<string> = new Set([
  'Evicted',
  'Preempting',
  'Shutdown',
  'NodeShutdown',
  'Terminated',
  'DeletionByTaintManager',
  'TerminationByKubelet'
])

/** Autoscaler events on a pod: a node is coming (Cluster Autoscaler, Karpenter), or none will. */
const SCALE_UP = new Set(['TriggeredScaleUp', 'Nominated'])
const NO_SCALE_UP = new Set(['NotTriggerScaleUp'])
const IMAGE_EVENTS = new Set(['Pulling', 'Pulled', 'Failed', 'BackOff', 'ErrImageNeverPull', 'InspectFailed'])
/** Warnings that say a pod's set-up is stuck (not merely slow) while its containers are being created. */
const SETUP_WARNINGS = new Set(['FailedMount', 'FailedAttachVolume', 'FailedCreatePodSandBox'])

export function doomedPodReason(
  pod: Pod,
  policy: DoomPolicy,
  now: number,
  evidence: PodEvidence = {}
): DoomedPod | undefined {
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
    const doomed = doomedContainer(cs, pod, policy, now, evidence)
    if (doomed)
      return {
        pod: name,
        container: cs.name,
        reason: doomed.reason,
        message: `${init ? 'init ' : ''}container ${cs.name}: ${doomed.message}`
      }
  }
  if (condition(status.conditions, 'Ready')?.status === 'True') return undefined
  const judged = notReady(pod, now, evidence)
  if (judged.state === 'doomed') return { pod: name, reason: judged.reason, message: judged.message }
  if (judged.state === 'busy') return undefined
  const still = now - judged.since
  if (still <= policy.notReadyGraceMs) return undefined
  return {
    pod: name,
    reason: 'NotReady',
    message: `not Ready, and no progress for ${Math.round(still / 1000)}s (grace ${Math.round(policy.notReadyGraceMs / 1000)}s): ${judged.why}`
  }
}

/** What a pod that is not Ready is doing: moving (busy), standing still since a time, or doomed. */
export type NotReadyState =
  | { state: 'busy'; why: string }
  | { state: 'stuck'; why: string; since: number }
  | { state: 'doomed'; reason: string; message: string }

export function notReady(pod: Pod, now: number, evidence: PodEvidence = {}): NotReadyState {
  const status = pod.status ?? {}
  const spec = pod.spec ?? {}
  const events = evidence.events ?? []
  const since = lastProgressAt(pod, evidence)
  const scheduled = condition(status.conditions, 'PodScheduled')
  const ready = condition(status.conditions, 'Ready')
  const gates = spec.schedulingGates ?? []
  if (gates.length || scheduled?.reason === 'SchedulingGated')
    return {
      state: 'busy',
      why: `waiting for its scheduling gates (${gates.map(g => g.name).join(', ') || 'set by another controller'}) to be removed`
    }
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const scaling = newest(events, e => SCALE_UP.has(e.reason) || NO_SCALE_UP.has(e.reason))
    if (scaling && SCALE_UP.has(scaling.reason))
      return { state: 'busy', why: `a node is being added for it (${scaling.reason}: ${scaling.message})` }
    if (scaling)
      return {
        state: 'doomed',
        reason: 'Unschedulable',
        message: `the scheduler cannot place it (${scheduled.message ?? 'unschedulable'}) and the cluster autoscaler adds no node for it (${scaling.reason}: ${scaling.message})`
      }
    if (status.nominatedNodeName)
      return { state: 'busy', why: `preempting lower-priority pods on node ${status.nominatedNodeName}` }
    return { state: 'stuck', why: `unschedulable: ${scheduled.message ?? 'no node fits'}`, since }
  }
  const sidecars = new Set(
    (spec.initContainers ?? []).filter(c => c.restartPolicy === 'Always').map(c => c.name)
  )
  const initRunning = (status.initContainerStatuses ?? []).find(
    c => c.state?.running && !sidecars.has(c.name)
  )
  if (initRunning)
    return {
      state: 'busy',
      why: `init container ${initRunning.name} running since ${initRunning.state?.running?.startedAt ?? '?'}`
    }
  const all = containerStatusesOf(pod)
  // A pull is under way when the kubelet's last word on images is Pulling (events of the same
  // second: an outcome wins) and a container still waits for its image.
  const pulling = newest(events, e => e.reason === 'Pulling')
  const outcome = newest(events, e => IMAGE_EVENTS.has(e.reason) && e.reason !== 'Pulling')
  const waitingForImage = all.length === 0 || all.some(c => c.state?.waiting)
  if (pulling && waitingForImage && (!outcome || outcome.at < pulling.at))
    return { state: 'busy', why: `pulling an image (${pulling.message})` }
  const settingUp =
    all.length === 0 ||
    all.some(c => ['ContainerCreating', 'PodInitializing'].includes(c.state?.waiting?.reason ?? ''))
  if (settingUp) {
    const warning = newest(events, e => SETUP_WARNINGS.has(e.reason))
    if (warning && warning.at >= since)
      return { state: 'stuck', why: `${warning.reason}: ${warning.message}`, since }
    return { state: 'busy', why: 'the kubelet is setting up its volumes and containers' }
  }
  const probing = startupBudget(pod, now)
  if (probing) return { state: 'busy', why: probing }
  const gate = (spec.readinessGates ?? []).find(
    g => condition(status.conditions, g.conditionType)?.status !== 'True'
  )
  if (gate && condition(status.conditions, 'ContainersReady')?.status === 'True')
    return {
      state: 'busy',
      why: `waiting for its readiness gate ${gate.conditionType} (set by another controller)`
    }
  const unhealthy = newest(events, e => e.reason === 'Unhealthy')
  const why =
    unhealthy && unhealthy.at >= since - 1000
      ? unhealthy.message
      : (ready?.message ?? ready?.reason ?? `phase ${status.phase ?? 'unknown'}`)
  return { state: 'stuck', why, since: Math.max(since, readinessDelayEnd(pod)) }
}

/**
 * The last time the pod moved: its creation, any condition's transition, a container starting or
 * ending, a change this wait saw, or a progress event.
 */
export function lastProgressAt(pod: Pod, evidence: PodEvidence = {}): number {
  const times: (string | number | undefined)[] = [
    pod.metadata?.creationTimestamp,
    evidence.history?.changedAt
  ]
  for (const c of pod.status?.conditions ?? []) times.push(c.lastTransitionTime)
  for (const c of containerStatusesOf(pod)) {
    times.push(
      c.state?.running?.startedAt,
      c.state?.terminated?.finishedAt,
      c.lastState?.terminated?.finishedAt
    )
  }
  for (const e of evidence.events ?? []) if (PROGRESS_EVENTS.has(e.reason)) times.push(e.at)
  let latest = -Infinity
  for (const t of times) {
    const ms = typeof t === 'number' ? t : t ? Date.parse(t) : NaN
    if (Number.isFinite(ms) && ms > latest) latest = ms
  }
  return latest
}

/** A running container still inside its startup probe's budget (initialDelay + period × failureThreshold). */
function startupBudget(pod: Pod, now: number): string | undefined {
  for (const c of pod.spec?.containers ?? []) {
    const probe = c.startupProbe
    if (!probe) continue
    const cs = pod.status?.containerStatuses?.find(s => s.name === c.name)
    const started = Date.parse(cs?.state?.running?.startedAt ?? '')
    if (!cs || cs.started || !Number.isFinite(started)) continue
    const budgetMs =
      ((probe.initialDelaySeconds ?? 0) + (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3)) * 1000
    if (now < started + budgetMs)
      return `container ${c.name} is inside its startup probe's budget (${Math.round(budgetMs / 1000)}s from ${cs.state?.running?.startedAt})`
  }
  return undefined
}

/** When the last container's readiness probe may first fail: its start plus initialDelaySeconds. */
function readinessDelayEnd(pod: Pod): number {
  let end = -Infinity
  for (const c of pod.spec?.containers ?? []) {
    const delay = c.readinessProbe?.initialDelaySeconds
    const cs = pod.status?.containerStatuses?.find(s => s.name === c.name)
    const started = Date.parse(cs?.state?.running?.startedAt ?? '')
    if (delay && Number.isFinite(started)) end = Math.max(end, started + delay * 1000)
  }
  return end
}

function newest(events: readonly PodEvent[], match: (e: PodEvent) => boolean): PodEvent | undefined {
  let found: PodEvent | undefined
  for (const e of events) if (match(e) && (!found || e.at >= found.at)) found = e
  return found
}

function doomedContainer(
  cs: ContainerStatus,
  pod: Pod,
  policy: DoomPolicy,
  now: number,
  evidence: PodEvidence
): { reason: string; message: string } | undefined {
  const waiting = cs.state?.waiting
  const restarts = cs.restartCount ?? 0
  const lastTerminated = cs.lastState?.terminated
  // Its last run, when it ended in a crash (a non-zero exit that is not an OOM kill, which has a rule of its own).
  const crashed = [cs.state?.terminated, cs.ready ? undefined : lastTerminated].find(
    t => t !== undefined && (t.exitCode ?? 0) !== 0 && t.reason !== 'OOMKilled'
  )
  const exits = restarts + (cs.state?.running ? 0 : 1)
  const tolerated = crashed !== undefined && exits <= (policy.crashTolerance ?? 0)
  if (waiting?.reason === 'CrashLoopBackOff' && tolerated) return undefined
  if (waiting?.reason && FATAL_WAITING_REASONS.has(waiting.reason)) {
    const parts: string[] = []
    if (waiting.message) parts.push(waiting.message)
    const cause = pullCause(waiting.reason, waiting.message, evidence.events ?? [])
    if (cause && cause !== waiting.message) parts.push(cause)
    const transient = TRANSIENT_CAUSES[waiting.reason]
    const text = cause ?? waiting.message ?? ''
    if (transient?.test(text) && !(waiting.reason.includes('Image') && PERMANENT_PULL.test(text))) {
      const since = evidence.history?.waitingSince[cs.name]?.since ?? lastProgressAt(pod, evidence)
      if (now - since <= policy.notReadyGraceMs) return undefined
      parts.push(`a transient cause, but it has persisted for ${Math.round((now - since) / 1000)}s`)
    }
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
  // A crash dooms at once (from the kubelet's report of the first exit, not a restart later): the
  // same image, restarted, runs the same code. crash-tolerance allows as many crashes as it says.
  if (crashed && !tolerated && !FATAL_TERMINATED_REASONS.has(crashed.reason ?? '')) {
    return {
      reason: crashed.reason ?? 'Error',
      message: `exited with code ${crashed.exitCode}${crashed.message ? ` (${crashed.message.trim().split('\n')[0]})` : ''}; ${exits} crash${exits === 1 ? '' : 'es'}, ${policy.crashTolerance ?? 0} tolerated`
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

/** An image pull's cause: the waiting message when it names one, else the kubelet's last Failed event. */
function pullCause(
  reason: string,
  message: string | undefined,
  events: readonly PodEvent[]
): string | undefined {
  if (reason !== 'ErrImagePull' && reason !== 'ImagePullBackOff') return message
  if (message && /:/.test(message.replace(/^Back-off pulling image "[^"]*"/, ''))) return message
  return newest(events, e => e.reason === 'Failed' && /pull/i.test(e.message))?.message ?? message
}

export interface DoomVerdict {
  doomed: DoomedPod[]
  /** True when more pods are doomed than tolerated: the rollout cannot succeed. */
  failed: boolean
}

/**
 * The doomed pods of a revision. A failed pod (evicted, preempted, refused by a kubelet) is replaced
 * by its controller, so it counts only when a pod created after it is doomed too: the replacement
 * failed as well. A disruption (eviction, preemption, node shutdown) alone never fails a release.
 */
export function rolloutDoom(
  pods: readonly Pod[],
  policy: DoomPolicy,
  tolerance: number,
  now: number,
  evidence: (pod: Pod) => PodEvidence = () => ({})
): DoomVerdict {
  const judged = pods.map(pod => ({ pod, doomed: doomedPodReason(pod, policy, now, evidence(pod)) }))
  const created = (p: Pod) => Date.parse(p.metadata?.creationTimestamp ?? '') || 0
  // A replacement that was itself disrupted says nothing about the release.
  const failedItself = (o: (typeof judged)[number]) =>
    !!o.doomed && !(o.pod.status?.phase === 'Failed' && DISRUPTIONS.has(o.doomed.reason))
  const doomed: DoomedPod[] = []
  for (const j of judged) {
    if (!j.doomed) continue
    if (j.pod.status?.phase !== 'Failed') {
      doomed.push(j.doomed)
      continue
    }
    const replacement = judged.find(o => o !== j && created(o.pod) > created(j.pod) && failedItself(o))
    if (replacement)
      doomed.push({
        ...j.doomed,
        message: `${j.doomed.message}; its replacement ${replacement.pod.metadata?.name ?? '?'} failed too`
      })
  }
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
