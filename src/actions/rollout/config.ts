import type { Inputs } from '../../runtime/index.js'
import { parseImagePins } from '../../kube/images.js'
import { maskKubeconfigCredentials } from '../../kube/kubeconfig.js'
import { parseWorkloadRef, type WorkloadRef } from '../../kube/objects.js'
import type { RolloutConfig } from '../../kube/release/types.js'
import { parseSmokeExpectation, type SmokeExpectation } from '../../kube/smoke.js'

/** The GitHub deployment record of the release, and where a rollback-to release comes from. */
export interface RecordConfig {
  /** auto: when there is a token and a repository (on GitHub Actions). */
  mode: 'auto' | 'true' | 'false'
  environment: string
  /** Default: the first smoke URL. */
  environmentUrl: string | undefined
  token: string
  /** Take the images of the environment's last successful deployment instead of `images`. */
  rollbackTo: 'last-success' | undefined
}

/** What the rollout needs, plus where the credentials come from. */
export interface ActionConfig extends RolloutConfig {
  /** Kubeconfig content; empty means KUBECONFIG or in-cluster. */
  kubeconfig: string
  context: string
  /** Authenticate with the job's GitHub OIDC token for this audience (the kubeconfig names the cluster). */
  oidcAudience: string | undefined
  record: RecordConfig
}

export function parseRecordConfig(inputs: Inputs): RecordConfig {
  const mode = inputs.enum('deployment', ['auto', 'true', 'false'] as const) ?? 'auto'
  const environment = inputs.string('environment') || 'production'
  if (!/^[^\r\n]{1,255}$/.test(environment))
    inputs.problem('environment', 'is not an environment name (1 to 255 characters, one line)')
  const environmentUrl = inputs.string('environment-url') || undefined
  if (
    environmentUrl !== undefined &&
    (!URL.canParse(environmentUrl) || !/^https?:$/.test(new URL(environmentUrl).protocol))
  )
    inputs.problem('environment-url', `${JSON.stringify(environmentUrl)} is not an http(s) URL`)
  const token = inputs.secret('github-token')
  const rollbackText = inputs.string('rollback-to')
  if (rollbackText !== '' && rollbackText !== 'last-success')
    inputs.problem(
      'rollback-to',
      `${JSON.stringify(rollbackText)}: the one choice is last-success (or empty)`
    )
  const rollbackTo = rollbackText === 'last-success' ? ('last-success' as const) : undefined
  if (rollbackTo && token === '')
    inputs.problem(
      'github-token',
      'is required with rollback-to: the last successful deployment is read from GitHub'
    )
  if (mode === 'true' && token === '') inputs.problem('github-token', 'is empty but deployment is true')
  return { mode, environment, environmentUrl, token, rollbackTo }
}

export function parseConfig(inputs: Inputs): ActionConfig {
  const manifests = inputs.list('manifests')
  const namespace = inputs.string('namespace')
  if (namespace !== '' && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    inputs.problem(
      'namespace',
      `${JSON.stringify(namespace)} is not a valid namespace name (lower case letters, digits, -)`
    )
  }
  const pinMap = inputs.map('images')
  const pins = parseImagePins(pinMap)
  for (const p of pins.problems) inputs.problem('images', p)

  const workloadText = inputs.string('workload')
  let workload: WorkloadRef | undefined
  if (workloadText !== '') {
    const parsed = parseWorkloadRef(workloadText)
    if (typeof parsed === 'string') inputs.problem('workload', parsed)
    else workload = parsed
  }
  // Its credentials are masked one by one; its lines (`apiVersion: v1`) are no secret.
  const kubeconfig = inputs.string('kubeconfig')
  if (kubeconfig !== '') maskKubeconfigCredentials(kubeconfig)
  const context = inputs.string('context')
  const oidcAudience = inputs.string('kube-oidc-audience') || undefined
  if (oidcAudience !== undefined && !/^[^\s]{1,255}$/.test(oidcAudience))
    inputs.problem(
      'kube-oidc-audience',
      `${JSON.stringify(oidcAudience)} is not an audience (one word, no spaces)`
    )
  const timeoutMs = inputs.duration('timeout', { min: 1000 }) ?? 600_000
  const fieldManager = inputs.string('field-manager') || 'otlp-deploy-actions'
  if (fieldManager.length > 128) inputs.problem('field-manager', 'is longer than 128 characters')
  const forceConflicts = inputs.boolean('force-conflicts')
  const notReadyGraceMs = inputs.duration('doom-grace', { min: 0 }) ?? 120_000
  const tolerance = inputs.integer('doom-tolerance', { min: 0 }) ?? 0
  const oomRestarts = inputs.integer('oom-restarts', { min: 1 }) ?? 2
  const crashTolerance = inputs.integer('crash-tolerance', { min: 0, max: 100 }) ?? 0
  const logLines = inputs.integer('log-lines', { min: 0, max: 1000 }) ?? 20

  const urls = inputs.list('smoke-url')
  for (const url of urls) {
    if (!URL.canParse(url) || !['http:', 'https:'].includes(new URL(url).protocol))
      inputs.problem('smoke-url', `${JSON.stringify(url)} is not an http(s) URL`)
  }
  const expectText = inputs.string('smoke-expect')
  let expect: SmokeExpectation | undefined
  if (expectText !== '') {
    const parsed = parseSmokeExpectation(expectText)
    if (typeof parsed === 'string') inputs.problem('smoke-expect', parsed)
    else expect = parsed
  }
  const smokeTimeoutMs = inputs.duration('smoke-timeout', { min: 100 }) ?? 60_000
  const retries = inputs.integer('smoke-retries', { min: 1, max: 100 }) ?? 5
  const job = inputs.string('smoke-job')
  const readinessRules = inputs.string('readiness-rules')
  const applyset = inputs.string('applyset')
  const prune = inputs.boolean('prune')
  if (applyset && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(applyset))
    inputs.problem('applyset', `${JSON.stringify(applyset)} is not a valid Secret name`)
  if (prune && !applyset)
    inputs.problem(
      'prune',
      'needs applyset: the name of the Secret that records which objects the release applied'
    )
  if (applyset && workloadText !== '')
    inputs.problem('applyset', 'works with manifests, not with workload (a workload alone is no set)')
  const rollback = inputs.boolean('rollback')

  if (manifests.length === 0 && !workload && workloadText === '') {
    inputs.problem('manifests', 'give manifests to apply, or a workload (kind/name) with images to pin')
  }
  if (manifests.length > 0 && workloadText !== '') {
    inputs.problem('workload', 'cannot be combined with manifests; pin images in the manifests instead')
  }
  const record = parseRecordConfig(inputs)
  if (record.rollbackTo && pins.pins.length > 0)
    inputs.problem(
      'images',
      'must be empty with rollback-to: the images come from the last successful deployment'
    )
  if (workloadText !== '' && pins.pins.length === 0 && !record.rollbackTo) {
    inputs.problem(
      'images',
      `is required with workload ${JSON.stringify(workloadText)}: give container=image pins`
    )
  }
  if (expect && urls.length === 0) inputs.problem('smoke-expect', 'needs smoke-url')

  return {
    manifests,
    namespace,
    images: pins.pins,
    workload,
    kubeconfig,
    context,
    oidcAudience,
    timeoutMs,
    fieldManager,
    forceConflicts,
    doom: { notReadyGraceMs, tolerance, oomRestarts, crashTolerance },
    logLines,
    smoke: { urls, expect, timeoutMs: smokeTimeoutMs, retries, job },
    readinessRules,
    applyset,
    prune,
    rollback,
    record
  }
}
