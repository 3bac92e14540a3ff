/**
 * The rollout story, shared by the rollout action and the one-step deploy action:
 * load and validate everything -> apply -> wait (fail fast on doomed pods) -> smoke test ->
 * on failure: diagnostics, rollback with `kubectl rollout undo` semantics, wait, smoke again.
 * Everything it touches goes through the adapters, so the caller decides where logs go.
 */
import { readFile } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import { ActionError, formatDuration, md } from '../runtime/index.js'
import type { AppliedObject, PlannedObject } from './apply.js'
import { applyPlan, planApply } from './apply.js'
import type { KubeClient } from './client.js'
import { KubeApiError, KubeClient as Client, describeApiError, sleep } from './client.js'
import type { Diagnostics } from './diagnostics.js'
import { diagnosticsLog, diagnosticsMarkdown, gatherDiagnostics } from './diagnostics.js'
import type { ImagePin } from './images.js'
import { pinImages, podTemplateOf } from './images.js'
import { Informer } from './informer.js'
import type { Manifest } from './manifests.js'
import { loadManifests, parseManifests } from './manifests.js'
import type {
  Condition,
  ControllerRevision,
  KubeObject,
  Pod,
  ReplicaSet,
  WorkloadKind,
  WorkloadRef
} from './objects.js'
import { isWorkload, selectorString } from './objects.js'
import type { RollbackPlan } from './rollback.js'
import {
  controllerRevisionRollbackPlan,
  currentControllerRevision,
  deploymentRollbackPlan,
  revisionOf
} from './rollback.js'
import type { SmokeExpectation, SmokeResult } from './smoke.js'
import { smokeUrl } from './smoke.js'
import { Timeline, timelineGantt, timelineTable } from './timeline.js'
import type { WaitResult, WaitTarget } from './wait.js'
import { waitForRollout } from './wait.js'

export interface RolloutConfig {
  manifests: string[]
  namespace: string
  images: ImagePin[]
  workload: WorkloadRef | undefined
  timeoutMs: number
  fieldManager: string
  forceConflicts: boolean
  doom: { notReadyGraceMs: number; tolerance: number; oomRestarts: number }
  logLines: number
  smoke: {
    urls: string[]
    expect: SmokeExpectation | undefined
    timeoutMs: number
    retries: number
    job: string
  }
  rollback: boolean
}

export interface RolloutAdapters {
  client: KubeClient
  /** Base for relative manifest paths (the workspace). */
  cwd: string
  log: (line: string) => void
  warn?: (line: string) => void
  group?: <T>(name: string, fn: () => Promise<T>) => Promise<T>
}

export type RolloutResultKind = 'success' | 'rolled-back' | 'failed'

export interface WorkloadOutcome {
  target: WaitTarget
  action: AppliedObject['action'] | 'set image'
  previousRevision: string
  revision: string
  wait?: WaitResult
  rollback?: { plan: RollbackPlan; wait?: WaitResult; error?: string }
}

export interface RolloutResult {
  result: RolloutResultKind
  revision: string
  previousRevision: string
  rolledBack: boolean
  durationMs: number
  failureReason: string
  applied: { kind: string; namespace?: string; name: string; action: string; source: string }[]
  workloads: WorkloadOutcome[]
  timeline: Timeline
  diagnostics: Diagnostics[]
  smoke: SmokeResult[]
  /** Epoch ms at which every workload's rollout was seen complete (for latency measurements). */
  completeAt?: number
  /** A message when the rollback itself failed: a person must act. */
  rollbackFailure?: string
  requests: number
  summary: string
}

const RESOURCES: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets'
}

export async function rollout(config: RolloutConfig, adapters: RolloutAdapters): Promise<RolloutResult> {
  const { client, log } = adapters
  const group = adapters.group ?? (<T>(_: string, fn: () => Promise<T>) => fn())
  const timeline = new Timeline()
  const started = timeline.origin
  const deadline = started + config.timeoutMs
  const namespace = config.namespace || client.defaultNamespace
  const policy = { notReadyGraceMs: config.doom.notReadyGraceMs, oomRestarts: config.doom.oomRestarts }

  // 1. Everything is read and validated before the first change.
  const { planned, setImage, smokeJob } = await group('Validate', () =>
    timeline.phase('validate', async () => {
      const smokeJob = config.smoke.job
        ? await loadSmokeJob(config.smoke.job, adapters.cwd, namespace)
        : undefined
      if (config.workload)
        return {
          planned: [] as PlannedObject[],
          setImage: await planSetImage(client, config, namespace, log),
          smokeJob
        }
      const loaded = await loadManifests(config.manifests, adapters.cwd)
      const problems = [...loaded.problems]
      if (problems.length === 0 && loaded.manifests.length === 0)
        problems.push(`${config.manifests.join(', ')}: no Kubernetes objects found`)
      const objects = loaded.manifests.map(m => m.object)
      if (config.images.length) {
        const { pinned, unmatched } = pinImages(objects, config.images)
        for (const p of pinned)
          log(
            `image ${p.object} ${p.init ? 'init ' : ''}container ${p.container}: ${p.from ?? '(none)'} -> ${p.to}`
          )
        for (const u of unmatched)
          problems.push(`images: no container named ${u.container} in any workload of the manifests`)
      }
      if (problems.length) throw validationError(problems)
      const plan = await planApply(client, loaded.manifests, namespace, {
        fieldManager: config.fieldManager,
        force: config.forceConflicts
      })
      if (plan.problems.length) throw validationError(plan.problems)
      log(`${plan.planned.length} objects validated by a server-side dry-run`)
      return { planned: plan.planned, setImage: undefined, smokeJob }
    })
  )

  // What rollback needs to know: the revision of each workload before the change.
  const workloads: WorkloadOutcome[] = []
  for (const p of planned.filter(p => isWorkload(p.object))) {
    workloads.push({
      target: {
        kind: p.object.kind as WorkloadKind,
        name: p.object.metadata!.name!,
        namespace: p.object.metadata!.namespace!
      },
      action: 'unchanged',
      previousRevision: p.before ? await revisionNow(client, p.before) : '',
      revision: ''
    })
  }
  if (setImage) {
    workloads.push({
      target: setImage.target,
      action: 'set image',
      previousRevision: await revisionNow(client, setImage.before),
      revision: ''
    })
  }

  // 2. Apply.
  let applied: AppliedObject[] = []
  await group('Apply', () =>
    timeline.phase('apply', async () => {
      if (setImage) {
        await setImage.apply()
        return
      }
      applied = await applyPlan(
        client,
        planned,
        { fieldManager: config.fieldManager, force: config.forceConflicts },
        log
      )
      for (const w of workloads) {
        const a = applied.find(
          x => x.kind === w.target.kind && x.name === w.target.name && x.namespace === w.target.namespace
        )
        if (a) w.action = a.action
      }
    })
  )

  // 3. Wait for every workload, failing fast.
  const waits = await group('Wait for the rollout', () =>
    timeline.phase(
      'rollout',
      () => {
        // A release is one unit: the first workload that fails ends the wait of the others.
        const release = new AbortController()
        return Promise.all(
          workloads.map(async w => {
            const r = await waitForRollout(client, w.target, {
              deadline,
              policy,
              tolerance: config.doom.tolerance,
              log,
              signal: release.signal
            })
            if (r.verdict.state === 'failed') release.abort()
            return r
          })
        )
      },
      results => {
        const failed =
          results.find(r => r.verdict.state === 'failed') ?? results.find(r => r.verdict.state !== 'complete')
        return failed
          ? { outcome: 'failed', detail: failed.verdict.reason }
          : { outcome: 'ok', detail: results.map(r => r.verdict.status.message).join('; ') }
      }
    )
  )
  let completeAt: number | undefined
  workloads.forEach((w, i) => (w.wait = waits[i]))
  let failureReason = ''
  const failedWait =
    waits.find(w => w.verdict.state === 'failed') ?? waits.find(w => w.verdict.state !== 'complete')
  if (failedWait) {
    const w = workloads[waits.indexOf(failedWait)]!
    failureReason = `${w.target.kind.toLowerCase()}/${w.target.name}: ${failedWait.verdict.reason ?? 'failed'}`
  } else {
    completeAt = Math.max(...waits.map(w => w.at), Date.now() - 0)
    if (waits.length) log(`rollout complete: ${waits.map(w => w.verdict.status.message).join('; ')}`)
  }
  for (const w of workloads) w.revision = await revisionNow(client, w.wait?.workload).catch(() => '')

  // 4. Diagnostics of what failed.
  const diagnostics: Diagnostics[] = []
  if (failedWait) {
    await group('Diagnostics', async () => {
      for (const w of workloads.filter(x => x.wait?.verdict.state === 'failed')) {
        const v = w.wait!.verdict
        if (!w.wait!.workload) continue
        const d = await gatherDiagnostics(client, {
          workload: w.wait!.workload,
          newReplicaSet: v.newReplicaSet,
          pods: v.newPods,
          doomed: v.doom.doomed,
          reason: v.reason ?? '',
          logLines: config.logLines
        })
        diagnostics.push(d)
        for (const line of diagnosticsLog(d)) log(line)
      }
    })
  }

  // 5. Smoke test a complete rollout.
  const smoke: SmokeResult[] = []
  if (!failedWait && (config.smoke.urls.length || smokeJob)) {
    const results = await group('Smoke test', () =>
      timeline.phase(
        'smoke test',
        () => runSmoke(client, config, smokeJob, log),
        r => smokeOutcome(r)
      )
    )
    smoke.push(...results)
    const bad = results.find(r => !r.ok)
    if (bad) failureReason = `smoke test failed: ${bad.url}: ${bad.problem}`
  }

  // 6. Roll back a failed release.
  let rolledBack = false
  let rollbackFailure: string | undefined
  if (failureReason && config.rollback) {
    const toRollBack = workloads.filter(w => w.action !== 'unchanged')
    if (toRollBack.length === 0) {
      log('rollback: no workload was changed by this release, nothing to roll back')
    } else {
      rollbackFailure = await group('Roll back', () =>
        timeline.phase(
          'rollback',
          () => rollBack(client, toRollBack, config, deadline, log),
          r => (r ? { outcome: 'failed', detail: r } : { outcome: 'ok' })
        )
      )
      if (!rollbackFailure) {
        rolledBack = true
        if (config.smoke.urls.length || smokeJob) {
          const results = await group('Smoke test after rollback', () =>
            timeline.phase(
              'smoke test after rollback',
              () => runSmoke(client, config, smokeJob, log),
              r => smokeOutcome(r)
            )
          )
          smoke.push(...results)
          const bad = results.find(r => !r.ok)
          if (bad) {
            rollbackFailure = `A person must act: the rollback completed, but the restored previous revision fails the smoke test too: ${bad.url}: ${bad.problem}`
          }
        }
      }
    }
  }

  const result: RolloutResultKind = !failureReason
    ? 'success'
    : rolledBack && !rollbackFailure
      ? 'rolled-back'
      : 'failed'
  const first = workloads[0]
  const durationMs = Date.now() - started
  const out: RolloutResult = {
    result,
    revision: first?.revision ?? '',
    previousRevision: first?.previousRevision ?? '',
    rolledBack,
    durationMs,
    failureReason,
    applied: setImage
      ? [
          {
            kind: setImage.target.kind,
            namespace: setImage.target.namespace,
            name: setImage.target.name,
            action: 'set image',
            source: 'workload input'
          }
        ]
      : applied.map(a => ({
          kind: a.kind,
          namespace: a.namespace,
          name: a.name,
          action: a.action,
          source: a.source
        })),
    workloads,
    timeline,
    diagnostics,
    smoke,
    completeAt,
    rollbackFailure,
    requests: client.requests,
    summary: ''
  }
  out.summary = rolloutSummary(out)
  return out
}

function validationError(problems: string[]): ActionError {
  return new ActionError(
    problems.length === 1
      ? `Validation failed, nothing was applied: ${problems[0]}`
      : `Validation failed (${problems.length} problems), nothing was applied:\n${problems.map(p => `- ${p}`).join('\n')}`,
    { hint: 'Fix the documents named above and run the step again.' }
  )
}

/** The current revision of a workload: the Deployment's annotation, or its ControllerRevision number. */
async function revisionNow(client: KubeClient, obj: KubeObject | undefined): Promise<string> {
  if (!obj) return ''
  if (obj.kind === 'Deployment') return String(revisionOf(obj) || '')
  const revisions = await listControllerRevisions(client, obj)
  const n = currentControllerRevision(obj, revisions)
  return n ? String(n) : ''
}

async function listControllerRevisions(client: KubeClient, owner: KubeObject): Promise<ControllerRevision[]> {
  const selector = selectorString((owner.spec as { selector?: never } | undefined)?.selector)
  const list = await client.request<{ items?: ControllerRevision[] }>(
    'GET',
    Client.collectionPath('apps/v1', 'controllerrevisions', owner.metadata?.namespace),
    { query: { labelSelector: selector }, retryForMs: 60_000 }
  )
  return list.items ?? []
}

/** `workload` mode: a strategic merge patch of the named containers' images (what `kubectl set image` sends). */
async function planSetImage(
  client: KubeClient,
  config: RolloutConfig,
  namespace: string,
  log: (line: string) => void
): Promise<{ target: WaitTarget; before: KubeObject; apply: () => Promise<void> }> {
  const ref = config.workload!
  const target: WaitTarget = { kind: ref.kind, name: ref.name, namespace }
  const path = `${Client.collectionPath('apps/v1', RESOURCES[ref.kind], namespace)}/${ref.name}`
  let before: KubeObject
  try {
    before = await client.request<KubeObject>('GET', path, { retryForMs: 30_000 })
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) {
      throw new ActionError(
        `workload ${ref.kind.toLowerCase()}/${ref.name} does not exist in namespace ${namespace}`,
        {
          hint: 'Deploy it once with manifests, or fix the workload and namespace inputs. Nothing was changed.'
        }
      )
    }
    throw describeApiError(err, `reading ${ref.kind.toLowerCase()}/${ref.name}`)
  }
  const spec = podTemplateOf(before)?.spec ?? {}
  const containers: { name: string; image: string }[] = []
  const initContainers: { name: string; image: string }[] = []
  for (const pin of config.images) {
    const main = (spec.containers ?? []).filter(c => c.name === pin.container)
    const init = (spec.initContainers ?? []).filter(c => c.name === pin.container)
    containers.push(...main.map(c => ({ name: c.name, image: pin.image })))
    initContainers.push(...init.map(c => ({ name: c.name, image: pin.image })))
    if (main.length + init.length === 0) {
      const names = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map(c => c.name).join(', ')
      throw new ActionError(
        `images: ${ref.kind.toLowerCase()}/${ref.name} has no container named ${pin.container} (it has ${names})`,
        {
          hint: 'Nothing was changed.'
        }
      )
    }
  }
  const patch = {
    spec: { template: { spec: { containers, ...(initContainers.length ? { initContainers } : {}) } } }
  }
  const send = (dryRun: boolean) =>
    client.request('PATCH', path, {
      query: { fieldManager: config.fieldManager, dryRun: dryRun ? 'All' : undefined },
      body: patch,
      contentType: 'application/strategic-merge-patch+json',
      retryForMs: 30_000
    })
  try {
    await send(true)
  } catch (err) {
    throw describeApiError(
      err,
      `validating the image change of ${ref.kind.toLowerCase()}/${ref.name} (server-side dry-run)`
    )
  }
  return {
    target,
    before,
    apply: async () => {
      try {
        await send(false)
      } catch (err) {
        throw describeApiError(err, `setting the images of ${ref.kind.toLowerCase()}/${ref.name}`)
      }
      for (const c of [...initContainers, ...containers])
        log(`${ref.kind.toLowerCase()}/${ref.name}: container ${c.name} image set to ${c.image}`)
    }
  }
}

interface SmokeJob {
  object: KubeObject
  source: string
  path: string
}

async function loadSmokeJob(file: string, cwd: string, namespace: string): Promise<SmokeJob> {
  const full = isAbsolute(file) ? file : resolve(cwd, file)
  let text: string
  try {
    text = await readFile(full, 'utf8')
  } catch {
    throw new ActionError(`smoke-job: cannot read ${file} (relative paths start at ${cwd})`, {
      hint: 'Nothing was changed.'
    })
  }
  const parsed = parseManifests(text, file)
  if (parsed.problems.length)
    throw validationError(
      parsed.problems.map(p => `smoke-job ${p.source.file}:${p.source.line}: ${p.message}`)
    )
  const jobs: Manifest[] = parsed.manifests
  if (jobs.length !== 1 || jobs[0]!.object.kind !== 'Job' || jobs[0]!.object.apiVersion !== 'batch/v1') {
    throw validationError([
      `smoke-job ${file}: must hold exactly one batch/v1 Job (found ${jobs.map(j => j.object.kind).join(', ') || 'nothing'})`
    ])
  }
  const object = jobs[0]!.object
  object.metadata!.namespace ??= namespace
  return {
    object,
    source: file,
    path: `${Client.collectionPath('batch/v1', 'jobs', object.metadata!.namespace)}/${object.metadata!.name}`
  }
}

function smokeOutcome(results: SmokeResult[]): { outcome: 'ok' | 'failed'; detail?: string } {
  const bad = results.find(r => !r.ok)
  return bad
    ? { outcome: 'failed', detail: `${bad.url}: ${bad.problem}` }
    : { outcome: 'ok', detail: `${results.length} check${results.length === 1 ? '' : 's'} passed` }
}

async function runSmoke(
  client: KubeClient,
  config: RolloutConfig,
  job: SmokeJob | undefined,
  log: (l: string) => void
): Promise<SmokeResult[]> {
  const results = await Promise.all(
    config.smoke.urls.map(url =>
      smokeUrl(url, {
        expect: config.smoke.expect,
        timeoutMs: config.smoke.timeoutMs,
        retries: config.smoke.retries,
        log
      })
    )
  )
  for (const r of results)
    log(
      `smoke ${r.url}: ${r.ok ? 'ok' : `FAILED (${r.problem})`} after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`
    )
  if (job) results.push(await runSmokeJob(client, job, config, log))
  return results
}

async function runSmokeJob(
  client: KubeClient,
  job: SmokeJob,
  config: RolloutConfig,
  log: (l: string) => void
): Promise<SmokeResult> {
  const started = Date.now()
  const name = job.object.metadata!.name!
  const ns = job.object.metadata!.namespace!
  const label = `job/${name}`
  try {
    // Replace a Job left by an earlier run: Jobs cannot be re-run in place.
    try {
      await client.request('DELETE', job.path, {
        query: { propagationPolicy: 'Background' },
        retryForMs: 30_000
      })
      for (let i = 0; i < 120; i++) {
        await sleep(250)
        await client.request('GET', job.path)
      }
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err
    }
    await client.request('POST', Client.collectionPath('batch/v1', 'jobs', ns), {
      query: { fieldManager: config.fieldManager },
      body: job.object,
      retryForMs: 30_000
    })
    log(`smoke ${label}: created`)
    const verdict = await new Promise<{ ok: boolean; problem?: string }>((resolveVerdict, reject) => {
      const judge = () => {
        const j = informer.items.get(name) as
          (KubeObject & { status?: { conditions?: Condition[] } }) | undefined
        const cond = (t: string) => j?.status?.conditions?.find(c => c.type === t && c.status === 'True')
        if (cond('Complete') ?? cond('SuccessCriteriaMet')) finish({ ok: true })
        else if (cond('Failed') ?? cond('FailureTarget')) {
          const c = cond('Failed') ?? cond('FailureTarget')!
          finish({ ok: false, problem: `the Job failed: ${c.reason ?? ''} ${c.message ?? ''}`.trim() })
        } else if (informer.fatal) finish({ ok: false, problem: informer.fatal.message })
      }
      const informer = new Informer(client, Client.collectionPath('batch/v1', 'jobs', ns), {
        fieldSelector: `metadata.name=${name}`,
        onChange: judge
      })
      const timer = setTimeout(
        () =>
          finish({
            ok: false,
            problem: `the Job did not complete within ${formatDuration(config.smoke.timeoutMs)}`
          }),
        config.smoke.timeoutMs
      )
      const finish = (v: { ok: boolean; problem?: string }) => {
        clearTimeout(timer)
        informer.stop()
        resolveVerdict(v)
      }
      informer.start().catch(reject)
    })
    if (!verdict.ok) {
      const pods = await client.request<{ items?: Pod[] }>('GET', Client.collectionPath('v1', 'pods', ns), {
        query: { labelSelector: `job-name=${name}` }
      })
      const d = await gatherDiagnostics(client, {
        workload: job.object,
        pods: pods.items ?? [],
        doomed: [],
        reason: verdict.problem ?? '',
        logLines: config.logLines
      })
      for (const line of diagnosticsLog(d)) log(line)
    }
    log(`smoke ${label}: ${verdict.ok ? 'complete' : `FAILED (${verdict.problem})`}`)
    return {
      url: label,
      ok: verdict.ok,
      attempts: 1,
      problem: verdict.problem,
      durationMs: Date.now() - started
    }
  } catch (err) {
    const e = describeApiError(err, `running the smoke Job ${name}`)
    return { url: label, ok: false, attempts: 1, problem: e.describe(), durationMs: Date.now() - started }
  }
}

/** Rolls every changed workload back and waits for each. Returns a message when it failed. */
async function rollBack(
  client: KubeClient,
  workloads: WorkloadOutcome[],
  config: RolloutConfig,
  deadlineOfRelease: number,
  log: (l: string) => void
): Promise<string | undefined> {
  const problems: string[] = []
  // The rollback gets its own full budget: a person is better served by a finished rollback.
  const deadline = Math.max(deadlineOfRelease, Date.now()) + config.timeoutMs
  await Promise.all(
    workloads.map(async w => {
      const label = `${w.target.kind.toLowerCase()}/${w.target.name}`
      try {
        const path = `${Client.collectionPath('apps/v1', RESOURCES[w.target.kind], w.target.namespace)}/${w.target.name}`
        const current = await client.request<KubeObject>('GET', path, { retryForMs: 60_000 })
        if (w.action === 'created' || !w.previousRevision) {
          const plan: RollbackPlan = {
            kind: 'impossible',
            description: `${label} was created by this release: there is no previous revision to return to`
          }
          w.rollback = { plan, error: plan.description }
          problems.push(plan.description)
          return
        }
        const toRevision = Number(w.previousRevision) || 0
        let plan: RollbackPlan
        if (w.target.kind === 'Deployment') {
          const rsList = await client.request<{ items?: ReplicaSet[] }>(
            'GET',
            Client.collectionPath('apps/v1', 'replicasets', w.target.namespace),
            {
              query: { labelSelector: selectorString((current.spec as { selector?: never }).selector) },
              retryForMs: 60_000
            }
          )
          plan = deploymentRollbackPlan(current, rsList.items ?? [], toRevision)
        } else {
          plan = controllerRevisionRollbackPlan(
            current,
            await listControllerRevisions(client, current),
            toRevision
          )
        }
        w.rollback = { plan }
        if (plan.kind === 'impossible') {
          w.rollback.error = plan.description
          problems.push(`${label}: ${plan.description}`)
          return
        }
        log(`${label}: ${plan.description}`)
        if (plan.kind === 'patch') {
          await client.request('PATCH', path, {
            query: { fieldManager: config.fieldManager },
            body: plan.patch,
            contentType:
              plan.patchType === 'json'
                ? 'application/json-patch+json'
                : 'application/strategic-merge-patch+json',
            retryForMs: 60_000
          })
          if (w.target.kind === 'StatefulSet') await replaceBrokenStatefulSetPods(client, path, current, log)
        }
        const policy = { notReadyGraceMs: config.doom.notReadyGraceMs, oomRestarts: config.doom.oomRestarts }
        const wait = await waitForRollout(client, w.target, {
          deadline,
          policy,
          tolerance: config.doom.tolerance,
          log
        })
        w.rollback.wait = wait
        if (wait.verdict.state !== 'complete') {
          w.rollback.error = wait.verdict.reason ?? 'did not complete'
          problems.push(
            `${label}: the rollback to revision ${plan.revision} did not complete: ${w.rollback.error}`
          )
        } else log(`${label}: rolled back to revision ${plan.revision}: ${wait.verdict.status.message}`)
      } catch (err) {
        const e = describeApiError(err, `rolling back ${label}`)
        w.rollback = { plan: { kind: 'impossible', description: e.message }, error: e.message }
        problems.push(`${label}: ${e.message}`)
      }
    })
  )
  return problems.length ? `ROLLBACK FAILED, a person must act: ${problems.join('; ')}` : undefined
}

/**
 * A StatefulSet never replaces a pod of the failed revision that is not Ready: the documented
 * "forced rollback" deletes those pods once the template is reverted, so that the controller
 * recreates them at the restored revision. Pods that are Ready are left to the rolling update.
 */
async function replaceBrokenStatefulSetPods(
  client: KubeClient,
  path: string,
  before: KubeObject,
  log: (l: string) => void
): Promise<void> {
  const failedRevision = (before.status as { updateRevision?: string } | undefined)?.updateRevision
  const generation = (before.metadata?.generation ?? 0) + 1
  if (!failedRevision) return
  // Deleting before the controller has seen the reverted template would recreate the broken pod.
  for (let i = 0; i < 100; i++) {
    const sts = await client.request<
      KubeObject & { status?: { observedGeneration?: number; updateRevision?: string } }
    >('GET', path, {
      retryForMs: 30_000
    })
    if ((sts.status?.observedGeneration ?? 0) >= generation && sts.status?.updateRevision !== failedRevision)
      break
    await sleep(100)
  }
  const selector = selectorString((before.spec as { selector?: never } | undefined)?.selector)
  const pods = await client.request<{ items?: Pod[] }>(
    'GET',
    Client.collectionPath('v1', 'pods', before.metadata?.namespace),
    {
      query: { labelSelector: `${selector},controller-revision-hash=${failedRevision}` },
      retryForMs: 30_000
    }
  )
  for (const pod of pods.items ?? []) {
    if (pod.metadata?.deletionTimestamp) continue
    if (pod.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True')) continue
    const name = pod.metadata?.name ?? ''
    try {
      await client.request(
        'DELETE',
        `${Client.collectionPath('v1', 'pods', before.metadata?.namespace)}/${name}`,
        { retryForMs: 30_000 }
      )
      log(
        `statefulset/${before.metadata?.name}: deleted pod ${name} of the failed revision ${failedRevision}; it is recreated at the restored revision`
      )
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err
    }
  }
}

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
