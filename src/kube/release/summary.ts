/**
 * The job summary of a rollout, a pure function of its result, in the order a person reads it:
 * the verdict; on failure the cause (the failing pod and container, its exit code or reason, its
 * last log lines, shown, not collapsed); what the rollback restored, deleted and rolled back, and
 * the checks run after it; then the objects, workloads, smoke tests, timeline and the full
 * diagnostics.
 */
import { formatDuration, md } from '../../runtime/index.js'
import type { Diagnostics } from '../diagnostics.js'
import { diagnosticsMarkdown } from '../diagnostics.js'
import type { SmokeResult } from '../smoke.js'
import { timelineGantt, timelineTable } from '../timeline.js'
import type { RolloutResult, RolloutResultKind } from './types.js'

const VERDICT_ICON: Record<RolloutResultKind, string> = { success: '✅', 'rolled-back': '↩️', failed: '❌' }

export function rolloutSummary(r: RolloutResult): string {
  return md.join(
    md.heading('Rollout', 2),
    verdictLine(r),
    r.result !== 'success' && cause(r.diagnostics[0]),
    rollbackSection(r),
    pruneSection(r),
    md.heading('Objects', 3),
    objectsTable(r),
    r.workloads.length > 0 && md.heading('Workloads', 3),
    workloadsTable(r),
    r.smoke.length > 0 && md.heading('Smoke tests', 3),
    smokeTable(r.smoke),
    md.heading('Timeline', 3),
    timelineTable(r.timeline.entries, r.timeline.origin),
    timelineGantt(r.timeline.entries, r.timeline.origin),
    ...r.diagnostics.map(d => md.details(`Diagnostics: ${d.workload}`, diagnosticsMarkdown(d))),
    `<sub>${r.requests} API requests</sub>`
  )
}

function verdictLine(r: RolloutResult): string {
  const reason = md.inline(r.failureReason)
  if (r.result === 'success')
    return `${VERDICT_ICON.success} **Release succeeded**${r.revision ? ` (revision ${r.revision})` : ''} in ${formatDuration(r.durationMs)}.`
  if (r.result === 'rolled-back')
    return `${VERDICT_ICON['rolled-back']} **Release failed and was rolled back**: ${reason}`
  return `${VERDICT_ICON.failed} **Release failed**: ${reason}${r.rollbackFailure ? `\n\n> [!CAUTION]\n> ${md.inline(r.rollbackFailure)}` : ''}`
}

/** The first failing pod of the first diagnosis: pod, container, reason, exit code, and its last log lines. */
export function cause(d: Diagnostics | undefined): string {
  if (!d) return ''
  const pod = d.pods.find(p => p.doomed) ?? d.pods[0]
  const lines: string[] = [md.heading('Cause', 3)]
  if (pod) {
    const container =
      pod.containers.find(c => c.name === pod.doomed?.container) ?? pod.containers.find(c => !c.ready)
    const state = container ? container.lastState || container.state : ''
    lines.push(
      [
        `**${md.inline(d.workload)}**, pod \`${pod.name}\``,
        container ? `, container \`${container.name}\`` : '',
        pod.doomed ? `: **${md.inline(pod.doomed.reason)}**` : '',
        state ? ` (${md.inline(state)})` : '',
        container && container.restarts ? `, ${container.restarts} restarts` : ''
      ].join('')
    )
    if (pod.doomed?.message) lines.push(md.inline(pod.doomed.message))
  } else lines.push(`**${md.inline(d.workload)}**: ${md.inline(d.reason)}`)
  const log =
    d.logs.find(l => l.pod === pod?.name && !l.unavailable && l.lines.length) ??
    d.logs.find(l => l.lines.length)
  if (log)
    lines.push(
      `Last ${log.lines.length} log lines of \`${log.pod}/${log.container}\`${log.previous ? ' (its previous run)' : ''}:`,
      md.codeBlock(log.lines.join('\n'))
    )
  return md.join(...lines)
}

function rollbackSection(r: RolloutResult): string {
  const undone = r.workloads.filter(w => w.rollback)
  const restore = r.restore
  if (!undone.length && !restore) return ''
  const items = [
    ...undone.map(w => {
      const label = `${w.target.kind}/${w.target.name}`
      if (w.rollback!.error) return `**${label}**: rollback failed: ${md.inline(w.rollback!.error)}`
      const plan = w.rollback!.plan
      return `**${label}** rolled back${'revision' in plan ? ` to revision ${plan.revision}` : ''} (\`kubectl rollout undo\`)`
    }),
    ...(restore?.restored ?? []).map(o => `**${md.inline(o)}** restored to its state before the release`),
    ...(restore?.deleted ?? []).map(o => `**${md.inline(o)}** deleted (the release created it)`),
    ...(restore?.kept ?? []).map(o => `${md.inline(o)} kept`),
    ...(restore?.problems ?? []).map(p => `problem: ${md.inline(p)}`)
  ]
  const after = r.smokeAfterRollback.length
    ? md.join(md.heading('Checks after the rollback', 4), smokeTable(r.smokeAfterRollback))
    : ''
  return md.join(
    md.heading('Rolled back', 3),
    items.length ? md.bulletList(items) : '_Nothing to roll back._\n',
    after
  )
}

function pruneSection(r: RolloutResult): string {
  if (!r.prune) return ''
  const items = [
    ...r.prune.pruned.map(
      o => `**${md.inline(o)}** pruned (an earlier release applied it, this one does not)`
    ),
    ...r.prune.problems.map(p => `> [!WARNING]\n> ${md.inline(p)}`)
  ]
  return md.join(md.heading('Pruned', 3), items.length ? items.join('\n\n') + '\n' : '_Nothing to prune._\n')
}

function objectsTable(r: RolloutResult): string {
  if (!r.applied.length) return '_Nothing applied._\n'
  const readiness = (kind: string, namespace: string | undefined, name: string) => {
    const w = r.workloads.find(
      x => x.target.kind === kind && x.target.name === name && x.target.namespace === namespace
    )?.wait?.verdict
    if (w) return w.state === 'waiting' ? 'stopped' : w.state === 'complete' ? 'rolled out' : 'failed'
    const o = r.objects.find(x => x.ref.kind === kind && x.ref.name === name && x.ref.namespace === namespace)
    if (!o) return ''
    return o.verdict.state === 'current'
      ? o.immediate
        ? 'ready'
        : o.verdict.message
      : `${o.verdict.state}: ${o.verdict.message}`
  }
  return md.table(
    ['kind', 'namespace', 'name', 'action', 'readiness', 'source'],
    r.applied.map(a => [
      a.kind,
      a.namespace ?? '',
      a.name,
      a.action,
      readiness(a.kind, a.namespace, a.name),
      a.source
    ])
  )
}

function workloadsTable(r: RolloutResult): string {
  if (!r.workloads.length) return ''
  return md.table(
    ['workload', 'previous revision', 'revision', 'rollout'],
    r.workloads.map(w => [
      `${w.target.kind}/${w.target.name}`,
      w.previousRevision,
      w.revision,
      w.wait
        ? w.wait.verdict.state === 'waiting'
          ? `stopped (another part of the release failed): ${w.wait.verdict.status.message}`
          : `${w.wait.verdict.state}: ${w.wait.verdict.reason ?? w.wait.verdict.status.message}`
        : ''
    ])
  )
}

function smokeTable(results: readonly SmokeResult[]): string {
  if (!results.length) return ''
  return md.table(
    ['check', 'result', 'attempts', 'time'],
    results.map(s => [s.url, s.ok ? 'ok' : `failed: ${s.problem}`, s.attempts, formatDuration(s.durationMs)])
  )
}
