import * as core from '@actions/core'
import {
  ActionError,
  appendSummary,
  errorMessage,
  group,
  md,
  readInputs,
  setOutputs
} from '../../runtime/index.js'
import { checkAccess, releaseAccessNeeds } from '../../kube/access-review.js'
import { KubeClient } from '../../kube/client.js'
import { prepareRelease } from '../../kube/release/plan.js'
import { rollout } from '../../kube/release/rollout.js'
import type { RolloutResult } from '../../kube/release/types.js'
import {
  findLastSuccess,
  finishDeployment,
  PAYLOAD_SCHEMA,
  startDeployment,
  type DeploymentFacts,
  type DeploymentRecord,
  type DeploymentTarget,
  type ReleaseEnd
} from '../../github/deployments.js'
import type { WorkloadOutcome } from '../../kube/release/types.js'
import { parseConfig, type ActionConfig } from './config.js'

export async function main(): Promise<void> {
  await runRollout(readInputs(parseConfig))
}

/**
 * Connects, rolls out, sets the outputs and the job summary, and throws when the release failed.
 * The one-step deploy action calls it with its own parsed config after the image is pushed.
 */
async function connect(config: ActionConfig): Promise<KubeClient> {
  const client = await KubeClient.connect({
    kubeconfig: config.kubeconfig,
    context: config.context,
    ...(config.oidcAudience ? { oidcAudience: config.oidcAudience } : {})
  })
  core.info(
    `API server ${client.server.origin}, user ${client.user} (${client.access.description}), namespace ${config.namespace || client.defaultNamespace}; from ${client.access.origin}`
  )
  return client
}

/**
 * Everything the release will need, checked without changing anything: the kubeconfig and
 * context, the manifests (read, pinned, dry-run on the server) and the credentials' rights
 * (SelfSubjectAccessReview for each verb). The one-step action runs it before it builds, with
 * placeholder pins, so a bad deploy input means no image is pushed.
 */
export async function checkRelease(config: ActionConfig): Promise<void> {
  const client = await connect(config)
  try {
    const plan = await prepareRelease(config, {
      client,
      cwd: process.env.GITHUB_WORKSPACE || process.cwd(),
      log: line => core.info(line)
    })
    const objects = plan.setImage
      ? [{ path: plan.setImage.path, before: plan.setImage.before }]
      : plan.objects
    const needs = releaseAccessNeeds(objects, {
      rollback: config.rollback,
      smokeJobNamespace: plan.smokeJob ? plan.namespace : undefined
    })
    await checkAccess(client, needs)
    core.info(`the credentials may do all ${needs.length} things the release needs`)
  } finally {
    client.close()
  }
}

export async function runRollout(given: ActionConfig): Promise<RolloutResult> {
  const started = Date.now()
  const github = recordTarget(given)
  const config = github && given.record.rollbackTo ? await withLastSuccess(given, github.target) : given
  // The job's `environment.url` reads it: the same URL the deployment record names.
  const environmentUrl = environmentUrlOf(config) ?? ''
  let record: DeploymentRecord | undefined
  let result: RolloutResult | undefined
  let client: KubeClient | undefined
  try {
    client = await connect(config)
    result = await rollout(config, {
      client,
      cwd: process.env.GITHUB_WORKSPACE || process.cwd(),
      log: line => core.info(line),
      warn: line => core.warning(line),
      group,
      beforeChange: async (workloads, images) => {
        if (github) record = await openRecord(config, github, workloads, images)
      }
    })
  } catch (err) {
    if (github && record)
      await closeRecord(github, record, { result: 'error', reason: errorMessage(err).split('\n')[0]! })
    // Failed before or during the change: still say so in the outputs and the summary.
    const reason = errorMessage(err).split('\n')[0]!
    setOutputs({
      result: 'failed',
      revision: '',
      'previous-revision': '',
      'rolled-back': false,
      duration: Math.round((Date.now() - started) / 1000),
      'failure-reason': reason,
      applied: [],
      'environment-url': environmentUrl
    })
    const details =
      err instanceof ActionError && err.details.length ? md.codeBlock(err.details.join('\n')) : ''
    await appendSummary(
      md.join(md.heading('Rollout', 2), `❌ **Release failed**: ${md.escapeHtml(errorMessage(err))}`, details)
    )
    throw err
  } finally {
    client?.close()
  }

  setOutputs({
    result: result.result,
    revision: result.revision,
    'previous-revision': result.previousRevision,
    'rolled-back': result.rolledBack,
    duration: Math.round((Date.now() - started) / 1000),
    'failure-reason': result.failureReason,
    applied: result.applied.map(a => ({
      kind: a.kind,
      namespace: a.namespace,
      name: a.name,
      action: a.action
    })),
    'environment-url': environmentUrl
  })
  if (github && record)
    await closeRecord(github, record, {
      result: result.result,
      revision: result.revision,
      previousRevision: result.previousRevision,
      reason: result.failureReason
    })
  await appendSummary(result.summary)
  for (const problem of result.prune?.problems ?? []) core.warning(`prune: ${problem}`)
  const again = client?.reauthentications ?? 0
  core.info(
    `${result.requests} API requests${again ? `, ${again} of them sent again with a fresh credential after a 401` : ''}`
  )
  if (result.result === 'rolled-back') {
    throw new ActionError(`The release failed and was rolled back: ${result.failureReason}`, {
      hint: 'The previous revision is serving again. Fix the release (see the diagnostics above and in the job summary) and deploy again.'
    })
  }
  if (result.result === 'failed') {
    throw new ActionError(`The release failed: ${result.failureReason}`, {
      hint:
        result.rollbackFailure ??
        (config.rollback
          ? 'Nothing could be rolled back automatically.'
          : 'rollback is false: the failed release is still in place.')
    })
  }
  return result
}

/** The environment's URL: the input, else the first smoke URL. */
function environmentUrlOf(config: ActionConfig): string | undefined {
  return config.record.environmentUrl ?? config.smoke.urls[0]
}

/** Where the deployment record goes, or undefined when there is none to keep (off, or not on GitHub). */
function recordTarget(
  config: ActionConfig
): { target: DeploymentTarget; facts: DeploymentFacts } | undefined {
  const { record } = config
  const [owner = '', repo = ''] = (process.env.GITHUB_REPOSITORY ?? '').split('/')
  const sha = process.env.GITHUB_SHA ?? ''
  if (record.mode === 'false' && !record.rollbackTo) return undefined
  if (!record.token || !owner || !repo || !sha) {
    if (record.mode === 'true' || record.rollbackTo)
      throw new ActionError(
        'deployment records need GITHUB_REPOSITORY, GITHUB_SHA and github-token, and one of them is empty'
      )
    core.info('no GitHub deployment record: not on GitHub Actions, or github-token is empty')
    return undefined
  }
  const server = process.env.GITHUB_SERVER_URL || 'https://github.com'
  const runId = process.env.GITHUB_RUN_ID
  return {
    target: { token: record.token, owner, repo, environment: record.environment },
    facts: {
      sha,
      ref: process.env.GITHUB_REF_NAME || sha,
      logUrl: runId ? `${server}/${owner}/${repo}/actions/runs/${runId}` : undefined,
      environmentUrl: environmentUrlOf(config)
    }
  }
}

/** rollback-to: last-success: the images of the environment's last successful deployment. */
async function withLastSuccess(config: ActionConfig, target: DeploymentTarget): Promise<ActionConfig> {
  const last = await group(`Last successful deployment to ${target.environment}`, () =>
    findLastSuccess(target)
  )
  if (!last)
    throw new ActionError(
      `rollback-to: last-success found no successful deployment of this suite to ${target.environment}`,
      {
        hint: 'A deployment counts when its latest status is success and its payload lists the images (the rollout writes both).'
      }
    )
  const images = Object.entries(last.payload.images).map(([container, image]) => ({
    container,
    image,
    byDigest: /@sha256:[0-9a-f]{64}$/.test(image)
  }))
  core.info(
    `rolling back to deployment ${last.id} (commit ${last.sha.slice(0, 7)}): ${images.map(i => `${i.container}=${i.image}`).join(', ')}`
  )
  return { ...config, images }
}

async function openRecord(
  config: ActionConfig,
  github: { target: DeploymentTarget; facts: DeploymentFacts },
  workloads: readonly WorkloadOutcome[],
  images: Record<string, string>
): Promise<DeploymentRecord | undefined> {
  const names = workloads.map(w => `${w.target.kind.toLowerCase()}/${w.target.name}`)
  const r = await startDeployment(
    github.target,
    github.facts,
    {
      schema: PAYLOAD_SCHEMA,
      images,
      workloads: names,
      namespace: workloads[0]?.target.namespace ?? config.namespace,
      previousRevision: workloads[0]?.previousRevision ?? ''
    },
    `${config.record.rollbackTo ? 'Rollback to the last success: ' : ''}${names.join(', ') || 'release'}`.slice(
      0,
      140
    )
  )
  if (!r.ok) {
    core.warning(`GitHub deployment record skipped: ${r.reason}`)
    return undefined
  }
  core.info(`GitHub deployment ${r.record.id} to ${github.target.environment}: in_progress`)
  return r.record
}

async function closeRecord(
  github: { target: DeploymentTarget; facts: DeploymentFacts },
  record: DeploymentRecord,
  end: ReleaseEnd
): Promise<void> {
  const r = await finishDeployment(github.target, record, github.facts, end)
  if (r.ok) core.info(`GitHub deployment ${record.id}: ${r.state}`)
  else core.warning(`GitHub deployment ${record.id} status not set: ${r.reason}`)
}
