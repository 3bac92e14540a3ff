/**
 * Annotations within what GitHub shows: at most 10 of each level (error, warning, notice) per step,
 * and 50 per job; the rest are dropped without a word. Over the budget, it keeps all but one of a
 * level (less what the caller reserves) and turns the rest into one last annotation that says how
 * many were left out and where to read them.
 */
import * as core from '@actions/core'

export type AnnotationLevel = 'error' | 'warning' | 'notice'

/** What GitHub shows of one level in one step. */
export const ANNOTATIONS_PER_STEP = 10

export interface Annotation {
  level: AnnotationLevel
  message: string
  properties?: core.AnnotationProperties
  /** Where the reader finds this one when it is left out (default: the `where` of the call). */
  more?: string
}

/** The annotations to emit: each level's first ones, and a note for those over the budget (pure). */
export function withinBudget(
  annotations: readonly Annotation[],
  where: string,
  reserve: Partial<Record<AnnotationLevel, number>> = {},
  perStep = ANNOTATIONS_PER_STEP
): Annotation[] {
  const out: Annotation[] = []
  for (const level of ['error', 'warning', 'notice'] as const) {
    // Room kept for what the step says after these (the error that fails it).
    const perLevel = perStep - (reserve[level] ?? 0)
    const mine = annotations.filter(a => a.level === level)
    if (mine.length <= perLevel) {
      out.push(...mine)
      continue
    }
    out.push(...mine.slice(0, perLevel - 1))
    const dropped = mine.slice(perLevel - 1)
    const places = [...new Set(dropped.map(a => a.more ?? where))].join('; ')
    out.push({
      level,
      message: `${dropped.length} more ${level}s are not shown as annotations (GitHub shows ${perStep} per step): ${places}`
    })
  }
  return out
}

export function emitAnnotations(
  annotations: readonly Annotation[],
  where: string,
  reserve: Partial<Record<AnnotationLevel, number>> = {}
): void {
  for (const a of withinBudget(annotations, where, reserve)) {
    const emit = a.level === 'error' ? core.error : a.level === 'warning' ? core.warning : core.notice
    emit(a.message, a.properties ?? {})
  }
}
