// The outcome of a release, a pure function of its waits, smoke tests and rollback, on verdicts
// judged from objects captured from the test bed (testbed/capture-fixtures.sh).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Deployment, KubeObject, Pod, ReplicaSet } from '../../src/kube/objects.js'
import type { ReleaseFacts, ReleaseOutcome, WaitFact } from '../../src/kube/release/outcome.js'
import { releaseOutcome } from '../../src/kube/release/outcome.js'
import { deploymentRollbackPlan } from '../../src/kube/rollback.js'
import type { SmokeResult } from '../../src/kube/smoke.js'
import { waitVerdict } from '../../src/kube/verdict.js'
import { finalVerdict } from '../../src/kube/wait.js'
import { REPO_ROOT } from '../harness/runner.js'

const read = <T = KubeObject>(name: string): T =>
  JSON.parse(readFileSync(join(REPO_ROOT, '__tests__/fixtures/kube', name), 'utf8')) as T
/** The ReplicaSets of a `kubectl get -o json` list, with the kind the informer sets. */
const replicaSets = (name: string): ReplicaSet[] =>
  read<{ items: ReplicaSet[] }>(name).items.map(rs => ({ ...rs, kind: 'ReplicaSet' }))
const policy = { notReadyGraceMs: 120_000, oomRestarts: 2 }

/** The wait of a captured Deployment, judged as the wait judges it, at `now`. */
function waitOf(deployment: string, rs: string, pods: Pod[], now: number): WaitFact {
  const workload = read<Deployment>(deployment)
  const verdict = waitVerdict({ workload, replicaSets: replicaSets(rs), pods }, policy, 0, now)
  return {
    target: { kind: 'Deployment', name: workload.metadata!.name!, namespace: workload.metadata!.namespace! },
    verdict
  }
}

const crashingPod = read<Pod>('pod-crashloop.json')
const crashedAt = Date.parse(crashingPod.metadata!.creationTimestamp!) + 1000
const complete = waitOf(
  'deployment-updated-complete.json',
  'replicasets-updated-complete.json',
  [],
  crashedAt
)
const crashing = waitOf('deployment-crashloop.json', 'replicasets-crashloop.json', [crashingPod], crashedAt)
const progressing = waitOf(
  'deployment-progressing.json',
  'replicasets-progressing.json',
  [read<Pod>('pod-running-not-ready.json')],
  crashedAt
)
const timedOut = {
  ...progressing,
  verdict: finalVerdict('deployment/web', { end: 'timed out' }, progressing.verdict)
}
// Stopped because another workload of the release failed: its verdict stays waiting.
const stopped = {
  ...progressing,
  verdict: finalVerdict('deployment/web', { end: 'aborted' }, progressing.verdict)
}

const smokeOk: SmokeResult = { url: 'http://web:8080/health', ok: true, attempts: 1, durationMs: 12 }
const smokeBad: SmokeResult = {
  url: 'http://web:8080/health',
  ok: false,
  attempts: 3,
  problem: 'HTTP 500: down',
  durationMs: 3012
}
const paused = deploymentRollbackPlan(read('deployment-paused.json'), replicaSets('replicasets-paused.json'))
const rolledBack = { state: 'ran', problems: [], smoke: [smokeOk] } as const

const crashReason = `deployment/api: ${crashing.verdict.reason}`

describe('release outcome', () => {
  it('judges the captured waits as the wait does', () => {
    expect([complete, crashing, progressing, timedOut, stopped].map(w => w.verdict.state)).toEqual([
      'complete',
      'failed',
      'waiting',
      'failed',
      'waiting'
    ])
    expect(crashing.verdict.reason).toMatch(/^pod api-\S+ is doomed: CrashLoopBackOff/)
    expect(paused.kind).toBe('impossible')
  })

  it.each<[string, ReleaseFacts, ReleaseOutcome]>([
    [
      'every wait complete and the smoke test passing: success',
      { waits: [complete, complete], smoke: [smokeOk] },
      { result: 'success', failureReason: '', rolledBack: false }
    ],
    [
      'one failed wait, rolled back: rolled-back, naming the workload and its doomed pod',
      { waits: [complete, crashing], smoke: [], rollback: rolledBack },
      { result: 'rolled-back', failureReason: crashReason, rolledBack: true }
    ],
    [
      'a failed wait and one it stopped: the failed one is the reason',
      { waits: [stopped, crashing], smoke: [], rollback: rolledBack },
      { result: 'rolled-back', failureReason: crashReason, rolledBack: true }
    ],
    [
      'a timed-out wait, rolled back: rolled-back, the reason says it timed out',
      { waits: [timedOut], smoke: [], rollback: rolledBack },
      {
        result: 'rolled-back',
        failureReason: `deployment/web: timed out waiting for deployment/web: ${progressing.verdict.status.message}`,
        rolledBack: true
      }
    ],
    [
      'a failing smoke test, rolled back and passing after: rolled-back',
      { waits: [complete], smoke: [smokeBad], rollback: rolledBack },
      {
        result: 'rolled-back',
        failureReason: 'smoke test failed: http://web:8080/health: HTTP 500: down',
        rolledBack: true
      }
    ],
    [
      'a smoke test failing after the rollback too: failed, and a person must act',
      { waits: [complete], smoke: [smokeBad], rollback: { state: 'ran', problems: [], smoke: [smokeBad] } },
      {
        result: 'failed',
        failureReason: 'smoke test failed: http://web:8080/health: HTTP 500: down',
        rolledBack: true,
        rollbackFailure:
          'A person must act: the rollback completed, but the restored previous revision fails the smoke test too: http://web:8080/health: HTTP 500: down'
      }
    ],
    [
      'a rollback that fails (a paused Deployment): failed, ROLLBACK FAILED',
      {
        waits: [crashing],
        smoke: [],
        rollback: { state: 'ran', problems: [`deployment/paused: ${paused.description}`], smoke: [] }
      },
      {
        result: 'failed',
        failureReason: crashReason,
        rolledBack: false,
        rollbackFailure: `ROLLBACK FAILED, a person must act: deployment/paused: ${paused.description}`
      }
    ],
    [
      'rollback disabled: failed, the failed release stays',
      { waits: [crashing], smoke: [], rollback: { state: 'disabled' } },
      { result: 'failed', failureReason: crashReason, rolledBack: false }
    ],
    [
      'nothing changed by the release, so nothing to roll back: failed',
      { waits: [crashing], smoke: [], rollback: { state: 'nothing changed' } },
      { result: 'failed', failureReason: crashReason, rolledBack: false }
    ],
    [
      'a failing release before its rollback: failed (what decides to roll back)',
      { waits: [complete], smoke: [smokeBad] },
      {
        result: 'failed',
        failureReason: 'smoke test failed: http://web:8080/health: HTTP 500: down',
        rolledBack: false
      }
    ]
  ])('%s', (_, facts, outcome) => {
    expect(releaseOutcome(facts)).toEqual(outcome)
  })
})

describe('an apply that stopped part-way', () => {
  it('fails the release with the apply error, rolled back when the rollback ran cleanly', () => {
    const facts = { applyError: 'applying Service ns/web after 2 of 3 objects: port 0', waits: [], smoke: [] }
    expect(releaseOutcome(facts)).toMatchObject({
      result: 'failed',
      failureReason: `apply failed: ${facts.applyError}`
    })
    expect(releaseOutcome({ ...facts, rollback: { state: 'ran', problems: [], smoke: [] } })).toMatchObject({
      result: 'rolled-back',
      rolledBack: true
    })
  })
})
