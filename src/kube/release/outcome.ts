/**
 * The outcome of a release as a pure function of what happened: the waits of its workloads, its
 * smoke test, and its rollback (not wanted, nothing to undo, or run with its own smoke test).
 */
import type { SmokeResult } from '../smoke.js'
import type { WaitVerdict } from '../verdict.js'
import type { WaitTarget } from '../wait.js'
import type { RolloutResultKind } from './types.js'
import type { ObjectWait } from './wait-objects.js'

export interface WaitFact {
  target: WaitTarget
  verdict: WaitVerdict
}

/** Not wanted (rollback: false), nothing to undo, or run: a line per workload it could not restore, and the smoke test after it. */
export type RollbackFacts =
  | { state: 'disabled' }
  | { state: 'nothing changed' }
  | { state: 'ran'; problems: readonly string[]; smoke: readonly SmokeResult[] }

export interface ReleaseFacts {
  /** The apply stopped part-way with this error (the release then waits for nothing). */
  applyError?: string
  waits: readonly WaitFact[]
  /** The waits of the objects that are not workloads (absent: none). */
  objects?: readonly ObjectWait[]
  /** The release's smoke checks: none when a wait failed or none are configured. */
  smoke: readonly SmokeResult[]
  /** What became of the rollback of a failed release; absent before (or without) one. */
  rollback?: RollbackFacts
}

export interface ReleaseOutcome {
  result: RolloutResultKind
  /** Why the release failed ('' when it did not). */
  failureReason: string
  rolledBack: boolean
  /** Set when the rollback failed, or the restored revision fails too: a person must act. */
  rollbackFailure?: string
}

/** The wait that fails the release: the first failed one, else the first that did not complete. */
function failedWait<W extends { verdict: WaitVerdict }>(waits: readonly W[]): W | undefined {
  return waits.find(w => w.verdict.state === 'failed') ?? waits.find(w => w.verdict.state !== 'complete')
}

/** The cause as failure-reason says it: the part, and why. */
function causeLine(cause: WaitCause<WaitFact>): string {
  if ('object' in cause) {
    const { ref, verdict } = cause.object
    return verdict.state === 'in progress'
      ? `${ref.kind.toLowerCase()}/${ref.name}: stopped: ${verdict.message}`
      : verdict.message
  }
  const { target, verdict } = cause.workload
  const fallback = verdict.state === 'failed' ? 'failed' : 'did not complete'
  return `${target.kind.toLowerCase()}/${target.name}: ${verdict.reason ?? fallback}`
}

function badSmokeReason(smoke: readonly SmokeResult[]): string {
  const bad = smoke.find(r => !r.ok)
  return bad ? `smoke test failed: ${bad.url}: ${bad.problem}` : ''
}

/**
 * What ends the release's wait, the first real failure first: a workload that failed, then an
 * object that failed (or never finished), then a workload another's failure stopped.
 */
export type WaitCause<W> = { workload: W } | { object: ObjectWait }

export function waitCause<W extends { verdict: WaitVerdict }>(
  waits: readonly W[],
  objects: readonly ObjectWait[] = []
): WaitCause<W> | undefined {
  const failed = waits.find(w => w.verdict.state === 'failed')
  if (failed) return { workload: failed }
  const object = failedObject(objects)
  if (object) return { object }
  const stopped = failedWait(waits)
  return stopped ? { workload: stopped } : undefined
}

/** The timeline outcome of the release's wait. */
export function waitsOutcome(
  waits: readonly { verdict: WaitVerdict }[],
  objects: readonly ObjectWait[] = []
): {
  outcome: 'ok' | 'failed'
  detail?: string
} {
  const cause = waitCause(waits, objects)
  if (cause)
    return {
      outcome: 'failed',
      detail: 'object' in cause ? cause.object.verdict.message : cause.workload.verdict.reason
    }
  const waited = objects.filter(o => !o.immediate).map(o => o.verdict.message)
  return { outcome: 'ok', detail: [...waits.map(w => w.verdict.status.message), ...waited].join('; ') }
}

/** The one line saying that a rollback failed, or undefined when there were no problems. */
export function rollbackFailureMessage(problems: readonly string[]): string | undefined {
  return problems.length ? `ROLLBACK FAILED, a person must act: ${problems.join('; ')}` : undefined
}

/** The object wait that fails the release: the first failed one, else the first still in progress. */
function failedObject(objects: readonly ObjectWait[] = []): ObjectWait | undefined {
  return objects.find(o => o.verdict.state === 'failed') ?? objects.find(o => o.verdict.state !== 'current')
}

export function releaseOutcome({
  applyError,
  waits,
  objects,
  smoke,
  rollback
}: ReleaseFacts): ReleaseOutcome {
  const cause = waitCause(waits, objects)
  const failureReason = applyError
    ? `apply failed: ${applyError}`
    : cause
      ? causeLine(cause)
      : badSmokeReason(smoke)
  if (!failureReason) return { result: 'success', failureReason, rolledBack: false }
  if (rollback?.state !== 'ran') return { result: 'failed', failureReason, rolledBack: false }
  const rollbackFailure = rollbackFailureMessage(rollback.problems)
  if (rollbackFailure) return { result: 'failed', failureReason, rolledBack: false, rollbackFailure }
  const badAfter = rollback.smoke.find(r => !r.ok)
  if (badAfter)
    return {
      result: 'failed',
      failureReason,
      rolledBack: true,
      rollbackFailure: `A person must act: the rollback completed, but the restored previous revision fails the smoke test too: ${badAfter.url}: ${badAfter.problem}`
    }
  return { result: 'rolled-back', failureReason, rolledBack: true }
}
