import * as github from '@actions/github'

type Octokit = ReturnType<typeof github.getOctokit>

export interface StickyCommentTarget {
  token: string
  owner: string
  repo: string
  issueNumber: number
  /** The hidden HTML comment that identifies this workflow and job's comment. */
  marker: string
}

export type StickyCommentResult =
  { action: 'created' | 'updated'; id: number; url: string } | { action: 'skipped'; reason: string }

/**
 * Creates or updates the one comment carrying `marker` on a pull request, among the comments of
 * the token's own identity. A token that may not
 * write (a fork's pull request, a read-only GITHUB_TOKEN) gives `skipped` with the reason, never an
 * exception: a comment is a convenience, not a reason to fail the tests' step. Other errors throw.
 * The API base comes from GITHUB_API_URL (GitHub Enterprise, or a test server).
 */
export async function upsertStickyComment(
  target: StickyCommentTarget,
  body: string
): Promise<StickyCommentResult> {
  const octokit = github.getOctokit(target.token)
  const where = { owner: target.owner, repo: target.repo }
  try {
    const existing = await findComment(octokit, target)
    if (existing) {
      const { data } = await octokit.rest.issues.updateComment({ ...where, comment_id: existing, body })
      return { action: 'updated', id: data.id, url: data.html_url }
    }
    const { data } = await octokit.rest.issues.createComment({
      ...where,
      issue_number: target.issueNumber,
      body
    })
    return { action: 'created', id: data.id, url: data.html_url }
  } catch (err) {
    const status = (err as { status?: number }).status
    if (status === 403 || status === 401 || (status === 404 && isIntegrationError(err))) {
      return {
        action: 'skipped',
        reason: `the token may not write comments on ${target.owner}/${target.repo}#${target.issueNumber} (HTTP ${status}: ${(err as Error).message}); a fork's pull request gets a read-only token`
      }
    }
    throw err
  }
}

/** The job's GITHUB_TOKEN comments as this bot; GET /user refuses such an installation token. */
export const ACTIONS_BOT = 'github-actions[bot]'

/**
 * Whose comments can be ours: the token's own user (a personal or fine-grained token), else, for an
 * installation token that GET /user refuses (the job's GITHUB_TOKEN), github-actions[bot].
 */
async function ownLogin(octokit: Octokit): Promise<string> {
  try {
    const { data } = await octokit.rest.users.getAuthenticated()
    return data.login
  } catch (err) {
    const status = (err as { status?: number }).status
    if (status === 401 || status === 403 || status === 404) return ACTIONS_BOT
    throw err
  }
}

/** The sticky comment: the oldest carrying the marker among the token's own comments (a marker planted by anyone else is ignored). */
async function findComment(octokit: Octokit, target: StickyCommentTarget): Promise<number | undefined> {
  const login = await ownLogin(octokit)
  const iterator = octokit.paginate.iterator(octokit.rest.issues.listComments, {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    per_page: 100
  })
  for await (const page of iterator) {
    // The oldest marked comment stays the sticky one, so a rerun never adds a second.
    const found = page.data.find(c => c.user?.login === login && (c.body ?? '').includes(target.marker))
    if (found) return found.id
  }
  return undefined
}

function isIntegrationError(err: unknown): boolean {
  return /Resource not accessible by integration/i.test((err as Error).message ?? '')
}
