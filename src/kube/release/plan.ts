/**
 * Everything a release checks before its first change, as a typed plan: the manifests loaded,
 * their images pinned and every object dry-run on the server (or, in `workload` mode, the image
 * patch dry-run), and the smoke Job loaded. It only reads and dry-runs, within a budget of its own,
 * so a caller can check a release before its image exists (placeholder pins) and a slow API server
 * never eats the release's wait.
 */
import { resolve } from 'node:path'
import { ActionError, formatDuration } from '../../runtime/index.js'
import type { PlannedObject } from '../apply.js'
import { planApply } from '../apply.js'
import type { KubeClient } from '../client.js'
import { KubeApiError, describeApiError } from '../client.js'
import { pinImages, podTemplateOf } from '../images.js'
import { loadManifests } from '../manifests.js'
import { labelMembers } from '../applyset.js'
import type { ReadinessRule } from '../readiness-rules.js'
import { loadReadinessRules } from '../readiness-rules.js'
import type { KubeObject, WorkloadRef } from '../objects.js'
import type { WaitTarget } from '../wait.js'
import { workloadCollection } from '../wait.js'
import type { RolloutAdapters, RolloutConfig } from './types.js'
import type { ApplySetPlan } from './prune.js'
import { readApplySet } from './prune.js'
import type { SmokeJob } from './smoke-job.js'
import { loadSmokeJob } from './smoke-job.js'

/** What prepareRelease reads of the config: a caller may pin images whose digest is not known yet. */
export type ReleaseSpec = Pick<
  RolloutConfig,
  | 'manifests'
  | 'namespace'
  | 'images'
  | 'workload'
  | 'timeoutMs'
  | 'fieldManager'
  | 'forceConflicts'
  | 'readinessRules'
  | 'applyset'
  | 'prune'
> & { smoke: Pick<RolloutConfig['smoke'], 'job'> }

/** `workload` mode: the images to set in one workload's containers. */
export interface SetImagePlan {
  target: WaitTarget
  before: KubeObject
  path: string
  containers: { name: string; image: string }[]
  initContainers: { name: string; image: string }[]
}

export interface ReleasePlan {
  namespace: string
  /** Manifests mode: the objects in apply order, each dry-run on the server. */
  objects: PlannedObject[]
  setImage: SetImagePlan | undefined
  smokeJob: SmokeJob | undefined
  /** The shipped readiness rules and the readiness-rules file's. */
  rules: ReadinessRule[]
  /** The release's ApplySet, when `applyset` names one. */
  applySet?: ApplySetPlan
}

/**
 * The images the release runs, by container name (init containers too), as pinned: what a
 * deployment record keeps so that `rollback-to` can pin them again (pure). A name two workloads
 * give different images keeps the first: pins by container name cannot tell them apart.
 */
export function releaseImages(plan: ReleasePlan): Record<string, string> {
  const out: Record<string, string> = {}
  const add = (containers: readonly { name?: string; image?: string }[] | undefined) => {
    for (const c of containers ?? []) if (c.name && c.image && !(c.name in out)) out[c.name] = c.image
  }
  if (plan.setImage) {
    add(plan.setImage.containers)
    add(plan.setImage.initContainers)
    return out
  }
  for (const p of plan.objects) {
    const spec = podTemplateOf(p.object)?.spec as
      | {
          containers?: { name?: string; image?: string }[]
          initContainers?: { name?: string; image?: string }[]
        }
      | undefined
    add(spec?.containers)
    add(spec?.initContainers)
  }
  return out
}

/**
 * Reads, pins and dry-runs the release; throws one error naming every problem (input, file, line).
 * Pins with a placeholder image (the one-step action before its build) check everything but the
 * digest: that plan is for checking only, the release prepares again with the pushed digest.
 */
export async function prepareRelease(
  config: ReleaseSpec,
  adapters: Pick<RolloutAdapters, 'client' | 'cwd' | 'log'>
): Promise<ReleasePlan> {
  let timer: NodeJS.Timeout | undefined
  // Nothing is changed before the plan is returned: abandoning a slow validation is safe.
  const budget = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ActionError(
            `Validation failed, nothing was applied: it did not finish within ${formatDuration(config.timeoutMs)} (timeout)`,
            { hint: 'The API server answers slowly: run the step again, or raise timeout.' }
          )
        ),
      config.timeoutMs
    )
  })
  try {
    return await Promise.race([planRelease(config, adapters), budget])
  } finally {
    clearTimeout(timer)
  }
}

async function planRelease(
  config: ReleaseSpec,
  { client, cwd, log }: Pick<RolloutAdapters, 'client' | 'cwd' | 'log'>
): Promise<ReleasePlan> {
  const namespace = config.namespace || client.defaultNamespace
  const smoke = config.smoke.job ? await loadSmokeJob(config.smoke.job, cwd, namespace) : { problems: [] }
  const rules = await loadReadinessRules(
    config.readinessRules ? resolve(cwd, config.readinessRules) : undefined
  )
  const change = config.workload
    ? await planSetImage(client, config, config.workload, namespace)
    : await planManifests(client, config, cwd, namespace, log)
  const problems = [...rules.problems, ...change.problems, ...smoke.problems]
  if (problems.length) throw validationError(problems)
  return {
    namespace,
    objects: change.objects ?? [],
    setImage: change.setImage,
    smokeJob: smoke.job,
    rules: rules.rules,
    applySet: change.applySet
  }
}

interface PlannedChange {
  objects?: PlannedObject[]
  applySet?: ApplySetPlan
  setImage?: SetImagePlan
  problems: string[]
}

async function planManifests(
  client: KubeClient,
  config: ReleaseSpec,
  cwd: string,
  namespace: string,
  log: (line: string) => void
): Promise<PlannedChange> {
  const loaded = await loadManifests(config.manifests, cwd)
  const problems = [...loaded.problems]
  if (problems.length === 0 && loaded.manifests.length === 0)
    problems.push(`${config.manifests.join(', ')}: no Kubernetes objects found`)
  if (config.images.length) {
    const { pinned, unmatched } = pinImages(
      loaded.manifests.map(m => m.object),
      config.images
    )
    for (const p of pinned)
      log(
        `image ${p.object} ${p.init ? 'init ' : ''}container ${p.container}: ${p.from ?? '(none)'} -> ${p.to}`
      )
    for (const u of unmatched)
      problems.push(`images: no container named ${u.container} in any workload of the manifests`)
  }
  let applySet: ApplySetPlan | undefined
  if (config.applyset) {
    const read = await readApplySet(client, config.applyset, namespace, config.prune)
    if (read.problem) problems.push(read.problem)
    applySet = read.plan
    if (applySet)
      labelMembers(
        loaded.manifests.map(m => m.object),
        applySet.id
      )
  }
  if (problems.length) return { problems }
  const plan = await planApply(client, loaded.manifests, namespace, {
    fieldManager: config.fieldManager,
    force: config.forceConflicts
  })
  if (plan.problems.length === 0) log(`${plan.planned.length} objects validated by a server-side dry-run`)
  return { objects: plan.planned, problems: plan.problems, applySet }
}

async function planSetImage(
  client: KubeClient,
  config: ReleaseSpec,
  ref: WorkloadRef,
  namespace: string
): Promise<PlannedChange> {
  const label = `${ref.kind.toLowerCase()}/${ref.name}`
  const path = `${workloadCollection(ref.kind, namespace)}/${ref.name}`
  let before: KubeObject
  try {
    before = await client.request<KubeObject>('GET', path, { retryForMs: 30_000 })
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) {
      return {
        problems: [
          `workload ${label} does not exist in namespace ${namespace}: deploy it once with manifests, or fix the workload and namespace inputs`
        ]
      }
    }
    throw describeApiError(err, `reading ${label}`)
  }
  const spec = podTemplateOf(before)?.spec ?? {}
  const plan: SetImagePlan = {
    target: { kind: ref.kind, name: ref.name, namespace },
    before,
    path,
    containers: [],
    initContainers: []
  }
  const problems: string[] = []
  for (const pin of config.images) {
    const main = (spec.containers ?? []).filter(c => c.name === pin.container)
    const init = (spec.initContainers ?? []).filter(c => c.name === pin.container)
    plan.containers.push(...main.map(c => ({ name: c.name, image: pin.image })))
    plan.initContainers.push(...init.map(c => ({ name: c.name, image: pin.image })))
    if (main.length + init.length === 0) {
      const names = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map(c => c.name).join(', ')
      problems.push(`images: ${label} has no container named ${pin.container} (it has ${names})`)
    }
  }
  if (problems.length) return { problems }
  try {
    await patchImages(client, plan, config.fieldManager, true)
  } catch (err) {
    throw describeApiError(err, `validating the image change of ${label} (server-side dry-run)`)
  }
  return { setImage: plan, problems }
}

/** Sets the planned images, the change `kubectl set image` makes. */
export async function applySetImage(
  client: KubeClient,
  plan: SetImagePlan,
  fieldManager: string,
  log: (line: string) => void
): Promise<void> {
  const label = `${plan.target.kind.toLowerCase()}/${plan.target.name}`
  try {
    await patchImages(client, plan, fieldManager, false)
  } catch (err) {
    throw describeApiError(err, `setting the images of ${label}`)
  }
  for (const c of [...plan.initContainers, ...plan.containers])
    log(`${label}: container ${c.name} image set to ${c.image}`)
}

/** A strategic merge patch of the named containers' images (what `kubectl set image` sends). */
function patchImages(
  client: KubeClient,
  plan: SetImagePlan,
  fieldManager: string,
  dryRun: boolean
): Promise<unknown> {
  const { containers, initContainers } = plan
  return client.request('PATCH', plan.path, {
    query: { fieldManager, dryRun: dryRun ? 'All' : undefined },
    body: {
      spec: { template: { spec: { containers, ...(initContainers.length ? { initContainers } : {}) } } }
    },
    contentType: 'application/strategic-merge-patch+json',
    retryForMs: 30_000
  })
}

function validationError(problems: string[]): ActionError {
  return new ActionError(
    problems.length === 1
      ? `Validation failed, nothing was applied: ${problems[0]}`
      : `Validation failed (${problems.length} problems), nothing was applied:\n${problems.map(p => `- ${p}`).join('\n')}`,
    { hint: 'Fix the documents named above and run the step again.' }
  )
}
