/** The job summary of a rollout, a pure function of its result. */
import { formatDuration, md } from '../../runtime/index.js'
import { diagnosticsMarkdown } from '../diagnostics.js'
import { timelineGantt, timelineTable } from '../timeline.js'
import type { RolloutResult, RolloutResultKind } from './types.js'

const VERDICT_ICON: Record<RolloutResultKind, string> = { success: '✅', 'rolled-back': '↩️', failed: '❌' }

/** The job summary: verdict, objects applied, timeline (table and gantt), diagnostics. */
export function rolloutSummary(r: RolloutResult): string {
  const verdict =
    r.result === 'success'
      ? `${VERDICT_ICON.success} **Release succeeded**${r.revision ? ` (revision ${r.revision})` : ''} in ${formatDuration(r.durationMs)}.`
      : r.result === 'rolled-back'
        ? `${VERDICT_ICON['rolled-back']} **Release failed and was rolled back** to revision ${r.workloads.map(w => (w.rollback?.plan && 'revision' in w.rollback.plan ? w.rollback.plan.revision : '?')).join(', ')}: ${r.failureReason}`
        : `${VERDICT_ICON.failed} **Release failed**: ${r.failureReason}${r.rollbackFailure ? `\n\n> [!CAUTION]\n> ${r.rollbackFailure}` : ''}`
  const objects = r.applied.length
    ? md.table(
        ['kind', 'namespace', 'name', 'action', 'source'],
        r.applied.map(a => [a.kind, a.namespace ?? '', a.name, a.action, a.source])
      )
    : '_Nothing applied._\n'
  const workloads = r.workloads.length
    ? md.table(
        ['workload', 'previous revision', 'revision', 'rollout', 'rollback'],
        r.workloads.map(w => [
          `${w.target.kind}/${w.target.name}`,
          w.previousRevision,
          w.revision,
          w.wait
            ? w.wait.verdict.state === 'waiting'
              ? `stopped (another workload failed): ${w.wait.verdict.status.message}`
              : `${w.wait.verdict.state}: ${w.wait.verdict.reason ?? w.wait.verdict.status.message}`
            : '',
          w.rollback ? (w.rollback.error ? `failed: ${w.rollback.error}` : w.rollback.plan.description) : ''
        ])
      )
    : ''
  const smoke = r.smoke.length
    ? md.table(
        ['check', 'result', 'attempts', 'time'],
        r.smoke.map(s => [
          s.url,
          s.ok ? 'ok' : `failed: ${s.problem}`,
          s.attempts,
          formatDuration(s.durationMs)
        ])
      )
    : ''
  return md.join(
    md.heading('Rollout', 2),
    verdict,
    md.heading('Objects applied', 3),
    objects,
    workloads && md.heading('Workloads', 3),
    workloads,
    smoke && md.heading('Smoke tests', 3),
    smoke,
    md.heading('Timeline', 3),
    timelineTable(r.timeline.entries, r.timeline.origin),
    timelineGantt(r.timeline.entries, r.timeline.origin),
    ...r.diagnostics.map(diagnosticsMarkdown),
    `<sub>${r.requests} API requests</sub>`
  )
}
