/**
 * What a person needs to fix a failed rollout: the failing pods with their containers' waiting and
 * terminated reasons, recent events of the workload, its new ReplicaSet and the failing pods, and
 * the last log lines of failing containers when the API serves them. Gathering is an adapter;
 * rendering (log lines and markdown) is pure.
 */
import type { KubeClient } from './client.js'
import { KubeClient as Client } from './client.js'
import type { DoomPolicy, DoomedPod } from './doom.js'
import { doomedPodReason } from './doom.js'
import type { ContainerState, KubeEvent, KubeObject, Pod } from './objects.js'
import { containerStatusesOf, eventTimes } from './objects.js'
import { md } from '../runtime/index.js'

/** The most of a container's log fetched for the summary. */
const LOG_LIMIT_BYTES = 16 * 1024

export interface PodDiagnosis {
  name: string
  phase: string
  doomed?: DoomedPod
  containers: { name: string; ready: boolean; restarts: number; state: string; lastState: string }[]
}

export interface EventLine {
  object: string
  type: string
  reason: string
  message: string
  count: number
  last: string
}

export interface ContainerLog {
  pod: string
  container: string
  previous: boolean
  lines: string[]
  unavailable?: string
}

export interface Diagnostics {
  workload: string
  reason: string
  pods: PodDiagnosis[]
  events: EventLine[]
  logs: ContainerLog[]
}

export function describeState(state: ContainerState | undefined): string {
  if (!state) return ''
  if (state.waiting)
    return `waiting: ${state.waiting.reason ?? ''}${state.waiting.message ? ` (${state.waiting.message})` : ''}`
  if (state.terminated) {
    const t = state.terminated
    return `terminated: ${t.reason ?? ''} exit ${t.exitCode ?? '?'}${t.message ? ` (${t.message})` : ''}`
  }
  if (state.running) return `running since ${state.running.startedAt ?? '?'}`
  return ''
}

/** A Job's failing pods as doomed pods: each failed run (its exit code) and each pod that cannot run. */
export function failedJobPods(pods: readonly Pod[], policy: DoomPolicy): DoomedPod[] {
  const out: DoomedPod[] = []
  for (const p of pods) {
    const name = p.metadata?.name ?? '?'
    const statuses = containerStatusesOf(p)
    const exited = statuses.find(c => (c.state?.terminated?.exitCode ?? 0) !== 0)
    if (p.status?.phase === 'Failed' && exited) {
      const t = exited.state!.terminated!
      out.push({
        pod: name,
        container: exited.name,
        reason: t.reason ?? 'Error',
        message: `container ${exited.name} exited with code ${t.exitCode}${t.message ? `: ${t.message}` : ''}`
      })
      continue
    }
    const doomed = doomedPodReason(p, policy, Date.now())
    if (doomed) out.push(doomed)
  }
  return out.sort((a, b) => a.pod.localeCompare(b.pod))
}

export function diagnosePods(pods: readonly Pod[], doomed: readonly DoomedPod[]): PodDiagnosis[] {
  const byName = new Map(doomed.map(d => [d.pod, d]))
  return [...pods]
    .sort(
      (a, b) =>
        Number(byName.has(b.metadata?.name ?? '')) - Number(byName.has(a.metadata?.name ?? '')) ||
        (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '')
    )
    .map(p => ({
      name: p.metadata?.name ?? '?',
      phase: p.status?.phase ?? '?',
      doomed: byName.get(p.metadata?.name ?? ''),
      containers: containerStatusesOf(p).map(cs => ({
        name: cs.name,
        ready: cs.ready ?? false,
        restarts: cs.restartCount ?? 0,
        state: describeState(cs.state),
        lastState: describeState(cs.lastState)
      }))
    }))
}

/** Events sorted newest last, as `kubectl describe` shows them. */
export function eventLines(events: readonly KubeEvent[], limit: number): EventLine[] {
  const when = (e: KubeEvent) => eventTimes(e).find(t => t !== undefined) ?? ''
  return [...events]
    .sort((a, b) => when(a).localeCompare(when(b)))
    .slice(-limit)
    .map(e => ({
      object: `${e.involvedObject?.kind ?? '?'}/${e.involvedObject?.name ?? '?'}`,
      type: e.type ?? '',
      reason: e.reason ?? '',
      message: (e.message ?? '').trim(),
      count: e.series?.count ?? e.count ?? 1,
      last: when(e)
    }))
}

export async function gatherDiagnostics(
  client: KubeClient,
  input: {
    workload: KubeObject
    newReplicaSet?: KubeObject
    pods: readonly Pod[]
    doomed: readonly DoomedPod[]
    reason: string
    logLines: number
  }
): Promise<Diagnostics> {
  const ns = input.workload.metadata?.namespace ?? 'default'
  const failing = input.pods.filter(p => input.doomed.some(d => d.pod === p.metadata?.name))
  const notReady = input.pods.filter(
    p => !p.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True')
  )
  const focus = (failing.length ? failing : notReady).slice(0, 3)
  const objects = [input.workload, input.newReplicaSet, ...focus].filter(
    (o): o is KubeObject => o !== undefined
  )
  const events: KubeEvent[] = []
  await Promise.all(
    objects.map(async o => {
      try {
        const list = await client.request<{ items?: KubeEvent[] }>(
          'GET',
          Client.collectionPath('v1', 'events', ns),
          {
            query: {
              fieldSelector: `involvedObject.name=${o.metadata?.name},involvedObject.kind=${o.kind ?? 'Pod'}`
            },
            timeoutMs: 10_000
          }
        )
        // An earlier object of the same name (a replaced Job) left events of its own.
        const uid = o.metadata?.uid
        events.push(
          ...(list.items ?? []).filter(e => !uid || !e.involvedObject?.uid || e.involvedObject?.uid === uid)
        )
      } catch {
        // Diagnostics are best effort: a missing right to list events must not hide the verdict.
      }
    })
  )
  const logs: ContainerLog[] = []
  if (input.logLines > 0) {
    for (const pod of focus) {
      const statuses = containerStatusesOf(pod)
      for (const cs of statuses.filter(c => !c.ready).slice(0, 2)) {
        const previous = (cs.restartCount ?? 0) > 0
        const name = pod.metadata?.name ?? '?'
        try {
          const text = await client.request<string>(
            'GET',
            `${Client.collectionPath('v1', 'pods', ns)}/${name}/log`,
            {
              query: {
                container: cs.name,
                tailLines: input.logLines,
                // A line can be megabytes (a JSON dump): the kubelet stops at this many bytes.
                limitBytes: LOG_LIMIT_BYTES,
                previous: previous ? true : undefined
              },
              timeoutMs: 5000
            }
          )
          logs.push({
            pod: name,
            container: cs.name,
            previous,
            lines: String(text)
              .split('\n')
              .filter(l => l !== '')
              .slice(-input.logLines)
          })
        } catch (err) {
          logs.push({
            pod: name,
            container: cs.name,
            previous,
            lines: [],
            unavailable: firstLine((err as Error).message)
          })
        }
      }
    }
  }
  return {
    workload: `${input.workload.kind}/${input.workload.metadata?.name}`,
    reason: input.reason,
    pods: diagnosePods(focus.length ? focus : input.pods.slice(0, 5), input.doomed),
    events: eventLines(events, 20),
    logs
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 300)
}

/** Diagnostics as plain log lines. */
export function diagnosticsLog(d: Diagnostics): string[] {
  const lines = [`Diagnostics for ${d.workload}: ${d.reason}`]
  for (const p of d.pods) {
    lines.push(`  pod ${p.name} (${p.phase})${p.doomed ? `: doomed, ${p.doomed.reason}` : ''}`)
    for (const c of p.containers) {
      lines.push(
        `    container ${c.name}: ready=${c.ready} restarts=${c.restarts} ${c.state}${c.lastState ? `; last ${c.lastState}` : ''}`
      )
    }
  }
  if (d.events.length) lines.push('  events:')
  for (const e of d.events)
    lines.push(
      `    ${e.last} ${e.type} ${e.reason} ${e.object}${e.count > 1 ? ` (x${e.count})` : ''}: ${e.message}`
    )
  for (const l of d.logs) {
    if (l.unavailable) lines.push(`  logs of ${l.pod}/${l.container}: not available (${l.unavailable})`)
    else {
      lines.push(
        `  last ${l.lines.length} log lines of ${l.pod}/${l.container}${l.previous ? ' (previous run)' : ''}:`
      )
      for (const line of l.lines) lines.push(`    | ${line}`)
    }
  }
  return lines
}

/** Diagnostics for the job summary. */
export function diagnosticsMarkdown(d: Diagnostics): string {
  const pods = md.table(
    ['pod', 'phase', 'container', 'ready', 'restarts', 'state', 'last state', 'verdict'],
    d.pods.flatMap(p =>
      (p.containers.length
        ? p.containers
        : [{ name: '', ready: false, restarts: 0, state: '', lastState: '' }]
      ).map(c => [
        p.name,
        p.phase,
        c.name,
        c.ready ? 'yes' : 'no',
        c.restarts,
        c.state,
        c.lastState,
        p.doomed ? `doomed: ${p.doomed.reason}` : ''
      ])
    )
  )
  const events = d.events.length
    ? md.table(
        ['last seen', 'type', 'reason', 'object', 'count', 'message'],
        d.events.map(e => [e.last, e.type, e.reason, e.object, e.count, e.message])
      )
    : '_No events recorded for these objects._\n'
  const logs = d.logs.map(l =>
    l.unavailable
      ? `Logs of \`${l.pod}/${l.container}\`: not available (${md.escapeHtml(l.unavailable)})\n`
      : md.details(
          `Last ${l.lines.length} log lines of ${l.pod}/${l.container}${l.previous ? ' (previous run)' : ''}`,
          md.codeBlock(l.lines.join('\n') || '(empty)')
        )
  )
  return md.join(
    md.heading(`Diagnostics: ${d.workload}`, 3),
    `**Why:** ${md.escapeHtml(d.reason)}\n`,
    d.pods.length > 0 && pods,
    md.heading('Recent events', 4),
    events,
    ...logs
  )
}
