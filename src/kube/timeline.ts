/**
 * The rollout timeline: each phase with its start, end and outcome, rendered as a markdown table
 * and as a Mermaid gantt chart for the job summary. Pure.
 */
import { formatDuration, md } from '../runtime/index.js'

export type PhaseOutcome = 'ok' | 'failed' | 'skipped'

export interface TimelineEntry {
  phase: string
  start: number
  end: number
  outcome: PhaseOutcome
  detail?: string
}

export class Timeline {
  readonly entries: TimelineEntry[] = []
  constructor(readonly origin: number = Date.now()) {}

  /** Runs `fn` as a phase; its outcome is failed when it throws or returns `false`-like verdicts via `outcomeOf`. */
  async phase<T>(
    phase: string,
    fn: () => Promise<T>,
    outcomeOf?: (result: T) => { outcome: PhaseOutcome; detail?: string }
  ): Promise<T> {
    const start = Date.now()
    try {
      const result = await fn()
      const o = outcomeOf ? outcomeOf(result) : { outcome: 'ok' as const }
      this.entries.push({ phase, start, end: Date.now(), ...o })
      return result
    } catch (err) {
      this.entries.push({
        phase,
        start,
        end: Date.now(),
        outcome: 'failed',
        detail: (err as Error).message.split('\n')[0]
      })
      throw err
    }
  }

  record(entry: TimelineEntry): void {
    this.entries.push(entry)
  }
}

const ICON: Record<PhaseOutcome, string> = { ok: '✅', failed: '❌', skipped: '⏭️' }

export function timelineTable(entries: readonly TimelineEntry[], origin: number): string {
  return md.table(
    ['phase', 'start', 'duration', 'outcome', 'detail'],
    entries.map(e => [
      e.phase,
      `+${formatDuration(e.start - origin)}`,
      formatDuration(e.end - e.start),
      `${ICON[e.outcome]} ${e.outcome}`,
      e.detail ?? ''
    ]),
    ['left', 'right', 'right', 'left', 'left']
  )
}

/** Mermaid names may not contain `:`, `#` or `;`, which end a task definition. */
function mermaidName(text: string): string {
  return text.replace(/[:;#]/g, ' ').replace(/\s+/g, ' ').trim() || 'phase'
}

export function timelineGantt(entries: readonly TimelineEntry[], origin: number): string {
  const lines = [
    'gantt',
    '  title Rollout timeline',
    '  dateFormat x',
    '  axisFormat %M:%S',
    '  section rollout'
  ]
  entries.forEach((e, i) => {
    // Mermaid draws nothing for a zero-length task; give each at least a millisecond.
    const start = e.start - origin
    const end = Math.max(e.end - origin, start + 1)
    const tag = e.outcome === 'failed' ? 'crit, ' : e.outcome === 'skipped' ? '' : 'done, '
    lines.push(`  ${mermaidName(e.phase)} :${tag}p${i}, ${start}, ${end}`)
  })
  return md.codeBlock(lines.join('\n'), 'mermaid')
}
