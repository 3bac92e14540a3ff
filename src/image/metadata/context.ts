/**
 * What the tag and label rules may look at: the event, the ref, the commit and the repository,
 * taken from the runner's environment and the webhook payload once, at the door.
 */

export interface RepositoryInfo {
  /** `owner/name`. */
  fullName: string
  name: string
  description: string
  htmlUrl: string
  /** SPDX id of the license, empty when GitHub detected none. */
  license: string
  /** Empty when the payload does not say (a `schedule` event carries no repository). */
  defaultBranch: string
}

export interface GitContext {
  eventName: string
  /** `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/2/merge`. */
  ref: string
  /** The full commit sha the tags and the revision label describe. */
  sha: string
  payload: Record<string, unknown>
  repository: RepositoryInfo
  /** When the build runs (label `created`, `{{date}}`). */
  now: Date
  /** When the commit was made, if the payload says (`{{commit_date}}`); else `now`. */
  commitDate: Date
  /** Length of `{{sha}}` and `type=sha` short forms (DOCKER_METADATA_SHORT_SHA_LENGTH). */
  shortShaLength: number
}

type Json = Record<string, unknown>

function obj(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

/**
 * Builds the context from the runner's variables and the parsed event payload.
 * `env` is the process environment (GITHUB_REF, GITHUB_SHA, GITHUB_REPOSITORY, ...).
 */
export function gitContextFrom(
  env: Record<string, string | undefined>,
  payload: Json,
  now: Date = new Date()
): GitContext {
  const eventName = env.GITHUB_EVENT_NAME ?? ''
  const ref = env.GITHUB_REF ?? ''
  let sha = env.GITHUB_SHA ?? ''
  // On pull requests GITHUB_SHA is the test merge commit; the head commit is what people recognise.
  const pr = obj(payload.pull_request)
  if (/^true$/i.test(env.DOCKER_METADATA_PR_HEAD_SHA ?? '') && pr) sha = str(obj(pr.head)?.sha) || sha

  const repo = obj(payload.repository)
  const fullName = str(repo?.full_name) || env.GITHUB_REPOSITORY || ''
  const serverUrl = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '')
  let defaultBranch = str(repo?.default_branch) || str(repo?.master_branch)
  // A scheduled run always runs on the default branch, and its payload names no repository.
  if (!defaultBranch && eventName === 'schedule' && ref.startsWith('refs/heads/')) {
    defaultBranch = ref.slice('refs/heads/'.length)
  }
  const repository: RepositoryInfo = {
    fullName,
    name: str(repo?.name) || fullName.split('/').pop() || '',
    description: str(repo?.description),
    htmlUrl: str(repo?.html_url) || (fullName ? `${serverUrl}/${fullName}` : ''),
    license: str(obj(repo?.license)?.spdx_id),
    defaultBranch
  }

  const headCommit = obj(payload.head_commit)
  const stamp = str(headCommit?.timestamp) || str(obj(obj(pr?.head)?.repo)?.pushed_at)
  const commitDate = stamp && !Number.isNaN(Date.parse(stamp)) ? new Date(stamp) : now

  const shortShaLength = Number(env.DOCKER_METADATA_SHORT_SHA_LENGTH ?? '')
  return {
    eventName,
    ref,
    sha,
    payload,
    repository,
    now,
    commitDate,
    shortShaLength: Number.isInteger(shortShaLength) && shortShaLength > 0 ? shortShaLength : 7
  }
}

export function branchOf(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined
}

export function tagOf(ref: string): string | undefined {
  return ref.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : undefined
}

/** The pull request number of `refs/pull/N/merge` (or the payload's number on pull_request_target). */
export function pullRequestOf(ctx: GitContext): string | undefined {
  const m = /^refs\/pull\/(\d+)\/(?:merge|head)$/.exec(ctx.ref)
  if (m) return m[1]
  if (ctx.eventName.startsWith('pull_request')) {
    const n = ctx.payload.number ?? obj(ctx.payload.pull_request)?.number
    if (typeof n === 'number') return String(n)
  }
  return undefined
}

/** The base branch of a pull request (or the `base_ref` a tag push may carry). */
export function baseRefOf(ctx: GitContext): string {
  const base = str(obj(obj(ctx.payload.pull_request)?.base)?.ref)
  if (base) return base
  return str(ctx.payload.base_ref).replace(/^refs\/heads\//, '')
}

/** True when the run is for the repository's default branch. */
export function isDefaultBranch(ctx: GitContext): boolean {
  const def = ctx.repository.defaultBranch
  if (!def) return false
  const branch = branchOf(ctx.ref)
  if (branch !== undefined) return branch === def
  // A tag push carries the branch it was pushed from, when GitHub knows it.
  if (tagOf(ctx.ref) !== undefined) {
    const base = str(ctx.payload.base_ref).replace(/^refs\/heads\//, '')
    return base !== '' && base === def
  }
  return false
}
