/**
 * The rollout story, shared by the rollout action and the one-step deploy action, told as phases
 * over one context: validate -> record the revisions -> apply -> wait (fail fast on doomed pods) ->
 * diagnose -> smoke test -> on failure roll back (`kubectl rollout undo`) and smoke again -> the
 * outcome (pure) -> the job summary. Everything it touches goes through the adapters, so the
 * caller decides where logs go.
 */
import { applyPlan } from '../apply.js'
import type { KubeClient } from '../client.js'
import type { Diagnostics } from '../diagnostics.js'
import { diagnosticsLog, gatherDiagnostics } from '../diagnostics.js'
import type { SmokeResult } from '../smoke.js'
import type { PhaseOutcome } from '../timeline.js'
import { Timeline } from '../timeline.js'
import { waitForRelease } from '../wait.js'
import type { RollbackFacts, WaitFact } from './outcome.js'
import { failedWait, releaseOutcome, rollbackFailureMessage, waitsOutcome } from './outcome.js'
import type { ReleasePlan } from './plan.js'
import { applySetImage, prepareRelease } from './plan.js'
import { revisionNow, revisionsBefore, rollBack } from './rollback.js'
import type { SmokeJob } from './smoke-job.js'
import { runSmoke, smokeOutcome } from './smoke-job.js'
import { rolloutSummary } from './summary.js'
import type { RolloutAdapters, RolloutConfig, RolloutResult, WorkloadOutcome } from './types.js'

/** What the phases share. */
interface Release {
  config: RolloutConfig
  client: KubeClient
  log: (line: string) => void
  group: <T>(name: string, fn: () => Promise<T>) => Promise<T>
  timeline: Timeline
}

export async function rollout(config: RolloutConfig, adapters: RolloutAdapters): Promise<RolloutResult> {
  const { client, log } = adapters
  const group = adapters.group ?? (<T>(_: string, fn: () => Promise<T>) => fn())
  const ctx: Release = { config, client, log, group, timeline: new Timeline() }
  const plan = await phase(ctx, 'Validate', 'validate', () => prepareRelease(config, adapters))
  const workloads = await revisionsBefore(client, plan)
  const applied = await phase(ctx, 'Apply', 'apply', () => apply(ctx, plan, workloads))
  // The wait's budget starts once the change is made: a slow validation never eats it.
  const deadline = Date.now() + config.timeoutMs
  const { waits, completeAt } = await waitForWorkloads(ctx, workloads, deadline)
  const diagnostics = await diagnose(ctx, workloads)
  const smoke = failedWait(waits) ? [] : await smokeTest(ctx, plan.smokeJob, 'Smoke test', 'smoke test')
  // The outcome so far says whether there is anything to roll back.
  const failed = releaseOutcome({ waits, smoke }).failureReason !== ''
  const rollback = failed ? await rollBackRelease(ctx, workloads, plan.smokeJob, deadline) : undefined
  const result: RolloutResult = {
    ...releaseOutcome({ waits, smoke, rollback }),
    revision: workloads[0]?.revision ?? '',
    previousRevision: workloads[0]?.previousRevision ?? '',
    durationMs: Date.now() - ctx.timeline.origin,
    applied,
    workloads,
    timeline: ctx.timeline,
    diagnostics,
    smoke: [...smoke, ...(rollback?.state === 'ran' ? rollback.smoke : [])],
    completeAt,
    requests: client.requests,
    summary: ''
  }
  result.summary = rolloutSummary(result)
  return result
}

/** A phase: a log group around a timeline entry. */
function phase<T>(
  ctx: Release,
  group: string,
  name: string,
  fn: () => Promise<T>,
  outcomeOf?: (result: T) => { outcome: PhaseOutcome; detail?: string }
): Promise<T> {
  return ctx.group(group, () => ctx.timeline.phase(name, fn, outcomeOf))
}

/** The image change in `workload` mode, else every planned object in order. */
async function apply(
  ctx: Release,
  plan: ReleasePlan,
  workloads: WorkloadOutcome[]
): Promise<RolloutResult['applied']> {
  if (plan.setImage) {
    await applySetImage(ctx.client, plan.setImage, ctx.config.fieldManager, ctx.log)
    const { kind, namespace, name } = plan.setImage.target
    return [{ kind, namespace, name, action: 'set image', source: 'workload input' }]
  }
  const options = { fieldManager: ctx.config.fieldManager, force: ctx.config.forceConflicts }
  const applied = await applyPlan(ctx.client, plan.objects, options, ctx.log)
  for (const w of workloads) {
    const { kind, name, namespace } = w.target
    w.action =
      applied.find(a => a.kind === kind && a.name === name && a.namespace === namespace)?.action ?? w.action
  }
  return applied.map(({ kind, namespace, name, action, source }) => ({
    kind,
    namespace,
    name,
    action,
    source
  }))
}

/** The release's wait, then the revision each workload reached. */
async function waitForWorkloads(
  ctx: Release,
  workloads: WorkloadOutcome[],
  deadline: number
): Promise<{ waits: WaitFact[]; completeAt?: number }> {
  const { client, config, log } = ctx
  const options = { deadline, policy: config.doom, tolerance: config.doom.tolerance, log }
  const targets = workloads.map(w => w.target)
  const results = await phase(
    ctx,
    'Wait for the rollout',
    'rollout',
    () => waitForRelease(client, targets, options),
    waitsOutcome
  )
  workloads.forEach((w, i) => (w.wait = results[i]))
  const complete = !failedWait(results)
  const completeAt = complete ? Math.max(...results.map(w => w.at), Date.now()) : undefined
  if (complete && results.length)
    log(`rollout complete: ${results.map(w => w.verdict.status.message).join('; ')}`)
  for (const w of workloads) w.revision = await revisionNow(client, w.wait?.workload).catch(() => '')
  const waits: WaitFact[] = results.map((w, i) => ({ target: targets[i]!, verdict: w.verdict }))
  return { waits, completeAt }
}

/** Events, pods and logs of every workload whose wait failed. */
async function diagnose(ctx: Release, workloads: WorkloadOutcome[]): Promise<Diagnostics[]> {
  const failed = workloads.filter(w => w.wait?.verdict.state === 'failed')
  if (failed.length === 0) return []
  return ctx.group('Diagnostics', async () => {
    const diagnostics: Diagnostics[] = []
    for (const { wait } of failed) {
      if (!wait?.workload) continue
      const v = wait.verdict
      const d = await gatherDiagnostics(ctx.client, {
        workload: wait.workload,
        newReplicaSet: v.newReplicaSet,
        pods: v.newPods,
        doomed: v.doom.doomed,
        reason: v.reason ?? '',
        logLines: ctx.config.logLines
      })
      diagnostics.push(d)
      for (const line of diagnosticsLog(d)) ctx.log(line)
    }
    return diagnostics
  })
}

async function smokeTest(
  ctx: Release,
  job: SmokeJob | undefined,
  group: string,
  name: string
): Promise<SmokeResult[]> {
  if (!ctx.config.smoke.urls.length && !job) return []
  return phase(ctx, group, name, () => runSmoke(ctx.client, ctx.config, job, ctx.log), smokeOutcome)
}

/** A failed release is rolled back when that is wanted and it changed something, then smoke-tested again. */
async function rollBackRelease(
  ctx: Release,
  workloads: WorkloadOutcome[],
  job: SmokeJob | undefined,
  deadline: number
): Promise<RollbackFacts> {
  if (!ctx.config.rollback) return { state: 'disabled' }
  const changed = workloads.filter(w => w.action !== 'unchanged')
  if (changed.length === 0) {
    ctx.log('rollback: no workload was changed by this release, nothing to roll back')
    return { state: 'nothing changed' }
  }
  const problems = await phase(
    ctx,
    'Roll back',
    'rollback',
    () => rollBack(ctx.client, changed, ctx.config, deadline, ctx.log),
    p => (p.length ? { outcome: 'failed', detail: rollbackFailureMessage(p) } : { outcome: 'ok' })
  )
  const smoke = problems.length
    ? []
    : await smokeTest(ctx, job, 'Smoke test after rollback', 'smoke test after rollback')
  return { state: 'ran', problems, smoke }
}
