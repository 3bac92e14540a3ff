/**
 * The rollout story, shared by the rollout action and the one-step deploy action, told as phases
 * over one context: validate -> record the revisions -> apply -> wait (fail fast on doomed pods) ->
 * diagnose -> smoke test -> on failure roll back (`kubectl rollout undo`) and smoke again -> the
 * outcome (pure) -> the job summary. Everything it touches goes through the adapters, so the
 * caller decides where logs go.
 */
import type { AppliedObject } from '../apply.js'
import { PartialApplyError, applyPlan } from '../apply.js'
import type { KubeClient } from '../client.js'
import type { Diagnostics } from '../diagnostics.js'
import { diagnosticsLog, failedJobPods, gatherDiagnostics } from '../diagnostics.js'
import type { SmokeResult } from '../smoke.js'
import type { PhaseOutcome } from '../timeline.js'
import { Timeline } from '../timeline.js'
import { waitForRelease as waitForWorkloads } from '../wait.js'
import type { RollbackFacts, WaitFact } from './outcome.js'
import { releaseOutcome, rollbackFailureMessage, waitCause, waitsOutcome } from './outcome.js'
import type { ApplySetPlan, PruneReport } from './prune.js'
import { pruneApplySet, writeParent } from './prune.js'
import type { RestoreReport } from './restore.js'
import { deleteCreated, restoreObjects, restorePlan } from './restore.js'
import type { ObjectWait } from './wait-objects.js'
import { objectsToWaitFor, waitForObjects } from './wait-objects.js'
import type { ReleasePlan } from './plan.js'
import { applySetImage, prepareRelease, releaseImages } from './plan.js'
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
  await adapters.beforeChange?.(workloads, releaseImages(plan))
  const { applied, applyError } = await phase(
    ctx,
    'Apply',
    'apply',
    () => apply(ctx, plan, workloads),
    a => (a.applyError ? { outcome: 'failed', detail: a.applyError } : { outcome: 'ok' })
  )
  // The wait's budget starts once the change is made: a slow validation never eats it.
  const deadline = Date.now() + config.timeoutMs
  const { waits, objects, completeAt } = applyError
    ? { waits: [], objects: [], completeAt: undefined }
    : await waitForRelease(ctx, workloads, applied, plan, deadline)
  const diagnostics = await diagnose(ctx, workloads, objects)
  const waited = applyError || waitCause(waits, objects)
  const smoke = waited ? [] : await smokeTest(ctx, plan.smokeJob, 'Smoke test', 'smoke test')
  // The outcome so far says whether there is anything to roll back.
  const failed = releaseOutcome({ applyError, waits, objects, smoke }).failureReason !== ''
  const undo = failed ? await rollBackRelease(ctx, workloads, applied, plan.smokeJob, deadline) : undefined
  const rollback = undo?.facts
  const pruned = !failed && plan.applySet?.prune ? await prune(ctx, plan, plan.applySet) : undefined
  const result: RolloutResult = {
    ...releaseOutcome({ applyError, waits, objects, smoke, rollback }),
    revision: workloads[0]?.revision ?? '',
    previousRevision: workloads[0]?.previousRevision ?? '',
    durationMs: Date.now() - ctx.timeline.origin,
    applied: applied.map(({ kind, namespace, name, action, source }) => ({
      kind,
      namespace,
      name,
      action,
      source
    })),
    workloads,
    timeline: ctx.timeline,
    diagnostics,
    objects,
    restore: undo?.restore,
    prune: pruned,
    smoke,
    smokeAfterRollback: rollback?.state === 'ran' ? [...rollback.smoke] : [],
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
): Promise<{ applied: Applied[]; applyError?: string }> {
  if (plan.setImage) {
    await applySetImage(ctx.client, plan.setImage, ctx.config.fieldManager, ctx.log)
    const { kind, namespace, name } = plan.setImage.target
    const { before, path } = plan.setImage
    const applied: Applied[] = [
      {
        kind,
        namespace,
        name,
        action: 'set image',
        source: 'workload input',
        after: before,
        before,
        path,
        hasStatus: true
      }
    ]
    return { applied }
  }
  const options = { fieldManager: ctx.config.fieldManager, force: ctx.config.forceConflicts }
  // The parent first, covering the old members and the new: an interrupted release stays prunable.
  if (plan.applySet)
    await writeParent(
      ctx.client,
      plan.applySet,
      plan.objects.map(p => p.object),
      ctx.config.fieldManager
    )
  let applied: AppliedObject[]
  let applyError: string | undefined
  try {
    applied = await applyPlan(ctx.client, plan.objects, options, ctx.log)
  } catch (err) {
    // Stopped part-way: what was applied is rolled back like any failed release.
    if (!(err instanceof PartialApplyError)) throw err
    ctx.log(`apply failed after ${err.applied.length} of ${plan.objects.length} objects: ${err.message}`)
    applied = err.applied
    applyError = err.message
  }
  for (const w of workloads) {
    const { kind, name, namespace } = w.target
    w.action =
      applied.find(a => a.kind === kind && a.name === name && a.namespace === namespace)?.action ?? w.action
  }
  return { applied, applyError }
}

/** An applied object, or the image change of `workload` mode. */
type Applied = Omit<AppliedObject, 'action'> & { action: AppliedObject['action'] | 'set image' }

/**
 * The release's wait: its workloads' rollouts and its other objects, at once. The first failure
 * ends every other wait; then the revision each workload reached.
 */
async function waitForRelease(
  ctx: Release,
  workloads: WorkloadOutcome[],
  applied: readonly Applied[],
  plan: ReleasePlan,
  deadline: number
): Promise<{ waits: WaitFact[]; objects: ObjectWait[]; completeAt?: number }> {
  const { client, config, log } = ctx
  const release = new AbortController()
  const options = { deadline, policy: config.doom, tolerance: config.doom.tolerance, log }
  const targets = workloads.map(w => w.target)
  const others = objectsToWaitFor(applied)
  const [results, objects] = await phase(
    ctx,
    'Wait for the rollout',
    'rollout',
    () =>
      Promise.all([
        waitForWorkloads(client, targets, options, release),
        waitForObjects(client, others, { ...options, rules: plan.rules, release })
      ]),
    ([results, objects]) => waitsOutcome(results, objects)
  )
  workloads.forEach((w, i) => (w.wait = results[i]))
  const complete = !waitCause(results, objects)
  const completeAt = complete
    ? Math.max(...results.map(w => w.at), ...objects.map(o => o.at), Date.now())
    : undefined
  if (complete && results.length)
    log(`rollout complete: ${results.map(w => w.verdict.status.message).join('; ')}`)
  for (const w of workloads) w.revision = await revisionNow(client, w.wait?.workload).catch(() => '')
  const waits: WaitFact[] = results.map((w, i) => ({ target: targets[i]!, verdict: w.verdict }))
  return { waits, objects, completeAt }
}

/** After a verified release: the members of earlier releases it no longer has are deleted. */
function prune(ctx: Release, plan: ReleasePlan, applySet: ApplySetPlan): Promise<PruneReport> {
  return phase(
    ctx,
    'Prune',
    'prune',
    () =>
      pruneApplySet(
        ctx.client,
        applySet,
        plan.objects.map(p => p.object),
        ctx.config.fieldManager,
        ctx.log
      ),
    r =>
      r.problems.length
        ? { outcome: 'failed', detail: r.problems.join('; ') }
        : { outcome: 'ok', detail: r.pruned.length ? `${r.pruned.length} pruned` : 'nothing to prune' }
  )
}

/** Events, pods and logs of every workload and object whose wait failed. */
async function diagnose(
  ctx: Release,
  workloads: WorkloadOutcome[],
  objects: ObjectWait[]
): Promise<Diagnostics[]> {
  const failed = workloads.filter(w => w.wait?.verdict.state === 'failed')
  const failedObjects = objects.filter(o => o.verdict.state === 'failed' && o.object)
  if (failed.length + failedObjects.length === 0) return []
  return ctx.group('Diagnostics', async () => {
    const inputs = [
      ...failed.flatMap(({ wait }) => {
        if (!wait?.workload) return []
        const v = wait.verdict
        const { workload } = wait
        return [
          {
            workload,
            newReplicaSet: v.newReplicaSet,
            pods: v.newPods,
            doomed: v.doom.doomed,
            reason: v.reason ?? ''
          }
        ]
      }),
      ...failedObjects.map(o => ({
        workload: o.object!,
        pods: o.pods ?? [],
        doomed: failedJobPods(o.pods ?? [], ctx.config.doom),
        reason: o.verdict.message
      }))
    ]
    const diagnostics: Diagnostics[] = []
    for (const input of inputs) {
      const d = await gatherDiagnostics(ctx.client, { ...input, logLines: ctx.config.logLines })
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

/**
 * A failed release is rolled back when that is wanted and it changed something: its configured
 * objects restored (config first), its changed workloads rolled back (`kubectl rollout undo`), the
 * objects it created deleted; then smoke-tested again.
 */
async function rollBackRelease(
  ctx: Release,
  workloads: WorkloadOutcome[],
  applied: readonly Applied[],
  job: SmokeJob | undefined,
  deadline: number
): Promise<{ facts: RollbackFacts; restore?: RestoreReport }> {
  if (!ctx.config.rollback) return { facts: { state: 'disabled' } }
  const objects = restorePlan(applied)
  const undo = workloads.filter(w => w.action !== 'unchanged' && w.action !== 'created')
  if (undo.length + objects.restore.length + objects.delete.length === 0) {
    ctx.log('rollback: this release changed nothing, so there is nothing to roll back')
    return { facts: { state: 'nothing changed' } }
  }
  const restore: RestoreReport = {
    restored: [],
    deleted: [],
    kept: objects.keep.map(k => `${k.object} (${k.why})`),
    problems: []
  }
  const problems = await phase(
    ctx,
    'Roll back',
    'rollback',
    async () => {
      await restoreObjects(ctx.client, objects.restore, ctx.log, restore)
      const workloadProblems = undo.length
        ? await rollBack(ctx.client, undo, ctx.config, deadline, ctx.log)
        : []
      await deleteCreated(ctx.client, objects.delete, ctx.log, restore)
      for (const k of restore.kept) ctx.log(`kept ${k}`)
      return [...restore.problems, ...workloadProblems]
    },
    p => (p.length ? { outcome: 'failed', detail: rollbackFailureMessage(p) } : { outcome: 'ok' })
  )
  const smoke = problems.length
    ? []
    : await smokeTest(ctx, job, 'Smoke test after rollback', 'smoke test after rollback')
  return { facts: { state: 'ran', problems, smoke }, restore }
}
