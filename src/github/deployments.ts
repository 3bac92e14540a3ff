/**
 * GitHub deployment records for a release: a deployment for the environment, ref and commit, with
 * the images (by digest) and the revision it replaced in its payload, then the statuses
 * `in_progress` and `success` or `failure` (a rollback is a failure that says so), with the
 * environment's URL and the run's log. GitHub then shows what runs where, and `rollback-to:
 * last-success` finds the last good release without anyone knowing its digest. The record is
 * bookkeeping: an API that refuses it (a token without `deployments: write`) is a warning, never a
 * failed release. Request shapes: GitHub's REST documentation ("Deployments", "Deployment statuses").
 */
import * as github from '@actions/github'

type Octokit = ReturnType<typeof github.getOctokit>

export interface DeploymentTarget {
  token: string
  owner: string
  repo: string
  environment: string
}

export interface DeploymentFacts {
  /** The commit deployed (GITHUB_SHA). */
  sha: string
  /** The ref it came from, for the record (GITHUB_REF_NAME). */
  ref: string
  /** The run's page, the statuses' log_url. */
  logUrl: string | undefined
  environmentUrl: string | undefined
}

/** What a deployment's payload carries (schema versioned, read back by rollback-to). */
export interface DeploymentPayload {
  schema: 'otlp-deploy-actions/deployment@1'
  /** container name -> image reference (repo@sha256:... when pinned by digest). */
  images: Record<string, string>
  workloads: string[]
  namespace: string
  previousRevision: string
}

export const PAYLOAD_SCHEMA = 'otlp-deploy-actions/deployment@1' as const

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error'

/** What the release came to, for the final status (pure). */
export interface ReleaseEnd {
  result: 'success' | 'rolled-back' | 'failed' | 'error'
  revision?: string
  previousRevision?: string
  reason?: string
}

/** GitHub keeps 140 characters of a status's description. */
export const DESCRIPTION_LIMIT = 140

export function finalStatus(end: ReleaseEnd): { state: DeploymentState; description: string } {
  const clip = (text: string) =>
    text.length > DESCRIPTION_LIMIT ? `${text.slice(0, DESCRIPTION_LIMIT - 1)}…` : text
  switch (end.result) {
    case 'success':
      return {
        state: 'success',
        description: clip(`Released${end.revision ? ` revision ${end.revision}` : ''}; verified`)
      }
    case 'rolled-back':
      return {
        state: 'failure',
        description: clip(
          `Rolled back${end.previousRevision ? ` to revision ${end.previousRevision}` : ''}: ${end.reason ?? 'the release failed'}`
        )
      }
    case 'failed':
      return {
        state: 'failure',
        description: clip(`Failed, not rolled back: ${end.reason ?? 'see the run'}`)
      }
    default:
      return {
        state: 'error',
        description: clip(`Not released: ${end.reason ?? 'the step failed before the change'}`)
      }
  }
}

/**
 * GitHub adds `inactive` only to a deployment that had reached `success`, when a newer one to the
 * same non-production environment succeeds (`auto_inactive`, which this suite's statuses set and
 * GitHub's own deployment of a job with `environment:` sets too): such a deployment was a success.
 */
const WAS_SUCCESSFUL = new Set(['success', 'inactive'])

/** The images of the newest deployment that succeeded (pure; newest first in). */
export function lastSuccess(
  deployments: readonly { id: number; payload: unknown; latestState: string | undefined; sha: string }[]
): { id: number; sha: string; payload: DeploymentPayload } | undefined {
  for (const d of deployments) {
    if (!WAS_SUCCESSFUL.has(d.latestState ?? '')) continue
    const p = d.payload as Partial<DeploymentPayload> | null
    if (p && p.schema === PAYLOAD_SCHEMA && p.images && Object.keys(p.images).length > 0)
      return { id: d.id, sha: d.sha, payload: p as DeploymentPayload }
  }
  return undefined
}

export interface DeploymentRecord {
  id: number
  url: string
}

export type RecordResult = { ok: true; record: DeploymentRecord } | { ok: false; reason: string }

/** Creates the deployment and its `in_progress` status. */
export async function startDeployment(
  target: DeploymentTarget,
  facts: DeploymentFacts,
  payload: DeploymentPayload,
  description: string
): Promise<RecordResult> {
  const octokit = github.getOctokit(target.token)
  try {
    const created = await octokit.rest.repos.createDeployment({
      owner: target.owner,
      repo: target.repo,
      ref: facts.sha,
      environment: target.environment,
      description,
      // A deploy of a commit as it is: no merge of the default branch, no wait for other checks.
      auto_merge: false,
      required_contexts: [],
      payload: payload as unknown as Record<string, unknown>,
      production_environment: /^prod(uction)?$/i.test(target.environment)
    })
    if (created.status !== 201 || !('id' in created.data))
      return { ok: false, reason: `GitHub did not create the deployment (HTTP ${created.status})` }
    const record = { id: created.data.id, url: created.data.url }
    await setStatus(octokit, target, record.id, facts, 'in_progress', description)
    return { ok: true, record }
  } catch (err) {
    return { ok: false, reason: apiReason(err, target) }
  }
}

export async function finishDeployment(
  target: DeploymentTarget,
  record: DeploymentRecord,
  facts: DeploymentFacts,
  end: ReleaseEnd
): Promise<{ ok: true; state: DeploymentState } | { ok: false; reason: string }> {
  const { state, description } = finalStatus(end)
  try {
    await setStatus(github.getOctokit(target.token), target, record.id, facts, state, description)
    return { ok: true, state }
  } catch (err) {
    return { ok: false, reason: apiReason(err, target) }
  }
}

/** The environment's last successful deployment of this suite, newest first, by its statuses. */
export async function findLastSuccess(
  target: DeploymentTarget,
  scan = 30
): Promise<ReturnType<typeof lastSuccess>> {
  const octokit = github.getOctokit(target.token)
  const { data } = await octokit.rest.repos.listDeployments({
    owner: target.owner,
    repo: target.repo,
    environment: target.environment,
    per_page: scan
  })
  // Newest first: the statuses of older deployments are read only until one is found.
  for (const d of data) {
    const statuses = await octokit.rest.repos.listDeploymentStatuses({
      owner: target.owner,
      repo: target.repo,
      deployment_id: d.id,
      per_page: 1
    })
    const found = lastSuccess([
      { id: d.id, sha: d.sha, payload: d.payload, latestState: statuses.data[0]?.state }
    ])
    if (found) return found
  }
  return undefined
}

async function setStatus(
  octokit: Octokit,
  target: DeploymentTarget,
  id: number,
  facts: DeploymentFacts,
  state: DeploymentState,
  description: string
): Promise<void> {
  await octokit.rest.repos.createDeploymentStatus({
    owner: target.owner,
    repo: target.repo,
    deployment_id: id,
    state,
    description,
    environment: target.environment,
    // Earlier deployments to the environment become inactive once this one succeeds.
    auto_inactive: true,
    ...(facts.logUrl ? { log_url: facts.logUrl } : {}),
    ...(facts.environmentUrl ? { environment_url: facts.environmentUrl } : {})
  })
}

function apiReason(err: unknown, target: DeploymentTarget): string {
  const status = (err as { status?: number }).status
  if (status === 403 || status === 401 || status === 404)
    return `the token may not write deployments of ${target.owner}/${target.repo} (HTTP ${status}: ${(err as Error).message}); give the job permissions: deployments: write`
  return `the GitHub API call failed: ${(err as Error).message}`
}
