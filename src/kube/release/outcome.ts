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
export function failedWait<W extends { verdict: WaitVerdict }>(waits: readonly W[]): W | undefined {
  return waits.find(w => w.verdict.state === 'failed') ?? waits.find(w => w.verdict.state !== 'complete')
}

function badSmokeReason(smoke: readonly SmokeResult[]): string {
  const bad = smoke.find(r => !r.ok)
  return bad ? `smoke test failed: ${bad.url}: ${bad.problem}` : ''
}

/** The timeline outcome of the release's wait. */
export function waitsOutcome(
  waits: readonly { verdict: WaitVerdict }[],
  objects: readonly ObjectWait[] = []
): {
  outcome: 'ok' | 'failed'
  detail?: string
} {
  const failed = waits.find(w => w.verdict.state === 'failed')
  if (failed) return { outcome: 'failed', detail: failed.verdict.reason }
  const failedObj = failedObject(objects)
  if (failedObj) return { outcome: 'failed', detail: failedObj.verdict.message }
  const stopped = failedWait(waits)
  if (stopped) return { outcome: 'failed', detail: stopped.verdict.reason }
  const waited = objects.filter(o => !o.immediate).map(o => o.verdict.message)
  return { outcome: 'ok', detail: [...waits.map(w => w.verdict.status.message), ...waited].join('; ') }
}

/** The one line saying that a rollback failed, or undefined when there were no problems. */
export function rollbackFailureMessage(problems: readonly string[]): string | undefined {
  return problems.length ? `ROLLBACK FAILED, a person must act: ${problems.join('; ')}` : undefined
}

/** The object wait that fails the release: the first failed one, else the first still in progress. */
export function failedObject(objects: readonly ObjectWait[] = []): ObjectWait | undefined {
  return objects.find(o => o.verdict.state === 'failed') ?? objects.find(o => o.verdict.state !== 'current')
}

export function releaseOutcome({
  applyError,
  waits,
  objects,
  smoke,
  rollback
}: ReleaseFacts): ReleaseOutcome {
  const failed = waits.find(w => w.verdict.state === 'failed')
  const failedObj = failedObject(objects)
  const stopped = failedWait(waits)
  // The first real failure names the cause; a wait another's failure stopped does not.
  const failureReason = applyError
    ? `apply failed: ${applyError}`
    : failed
      ? `${failed.target.kind.toLowerCase()}/${failed.target.name}: ${failed.verdict.reason ?? 'failed'}`
      : failedObj
        ? failedObj.verdict.state === 'in progress'
          ? `${failedObj.ref.kind.toLowerCase()}/${failedObj.ref.name}: stopped: ${failedObj.verdict.message}`
          : failedObj.verdict.message
        : stopped
          ? `${stopped.target.kind.toLowerCase()}/${stopped.target.name}: ${stopped.verdict.reason ?? 'did not complete'}`
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
