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
import { parseConfig, type ActionConfig } from './config.js'

export async function main(): Promise<void> {
  await runRollout(readInputs(parseConfig))
}

/**
 * Connects, rolls out, sets the outputs and the job summary, and throws when the release failed.
 * The one-step deploy action calls it with its own parsed config after the image is pushed.
 */
async function connect(config: ActionConfig): Promise<KubeClient> {
  const client = await KubeClient.connect({ kubeconfig: config.kubeconfig, context: config.context })
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

export async function runRollout(config: ActionConfig): Promise<RolloutResult> {
  const started = Date.now()
  let result: RolloutResult | undefined
  let client: KubeClient | undefined
  try {
    client = await connect(config)
    result = await rollout(config, {
      client,
      cwd: process.env.GITHUB_WORKSPACE || process.cwd(),
      log: line => core.info(line),
      warn: line => core.warning(line),
      group
    })
  } catch (err) {
    // Failed before or during the change: still say so in the outputs and the summary.
    const reason = errorMessage(err).split('\n')[0]!
    setOutputs({
      result: 'failed',
      revision: '',
      'previous-revision': '',
      'rolled-back': false,
      duration: Math.round((Date.now() - started) / 1000),
      'failure-reason': reason,
      applied: []
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
    }))
  })
  await appendSummary(result.summary)
  for (const problem of result.prune?.problems ?? []) core.warning(`prune: ${problem}`)
  core.info(`${result.requests} API requests`)
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
