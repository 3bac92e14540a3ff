import * as github from '@actions/github'
import { mergeMissing, neutralise, sectionsOf, withSection } from './sections.js'

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
    const skipped = notAllowed(err, target)
    if (skipped) return skipped
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
  return (await ownMarked(octokit, target, true))[0]?.id
}

interface MarkedComment {
  id: number
  body: string
  url: string
}

/** The token's own comments that carry the marker, oldest first (`first`: stop at the first one). */
async function ownMarked(
  octokit: Octokit,
  target: StickyCommentTarget,
  first = false
): Promise<MarkedComment[]> {
  const login = await ownLogin(octokit)
  const iterator = octokit.paginate.iterator(octokit.rest.issues.listComments, {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    per_page: 100
  })
  const out: MarkedComment[] = []
  for await (const page of iterator) {
    for (const c of page.data) {
      // The marker is the body's first line: a comment that quotes it elsewhere is not ours.
      if (c.user?.login === login && (c.body ?? '').split('\n', 1)[0] === target.marker)
        out.push({ id: c.id, body: c.body ?? '', url: c.html_url })
    }
    if (first && out.length > 0) break
  }
  return out.sort((a, b) => a.id - b.id)
}

/**
 * Sets this run's section of the comment that several runs share (`comment-layout: sections`).
 * Runs of one workflow finish close together and GitHub has no conditional update, so it reads
 * back what it wrote: a section another run's write replaced is written again, and two comments
 * created at once are folded into the oldest. `section(room)` renders the section within `room`
 * characters, what the other sections leave of GitHub's limit.
 */
export async function upsertStickySection(
  target: StickyCommentTarget,
  key: string,
  section: (room: number) => string,
  options: { limit: number; attempts?: number; pauseMs?: () => number } = { limit: 60_000 }
): Promise<StickyCommentResult> {
  const octokit = github.getOctokit(target.token)
  const where = { owner: target.owner, repo: target.repo }
  const attempts = options.attempts ?? 5
  const pause = options.pauseMs ?? (() => 300 + Math.floor(Math.random() * 1200))
  try {
    let created = false
    for (let attempt = 1; ; attempt++) {
      const mine = await ownMarked(octokit, target)
      let keeper = mine[0]
      // Two runs created the comment at once: the oldest keeps every section, the others go.
      for (const extra of mine.slice(1)) {
        const body = mergeMissing(keeper!.body, extra.body, target.marker)
        await octokit.rest.issues.updateComment({ ...where, comment_id: keeper!.id, body })
        keeper = { ...keeper!, body }
        // Another run may have folded and deleted it first.
        await octokit.rest.issues.deleteComment({ ...where, comment_id: extra.id }).catch((err: unknown) => {
          if ((err as { status?: number }).status !== 404) throw err
        })
      }
      const others = keeper ? [...sectionsOf(keeper.body)].filter(([k]) => k !== key) : []
      const used = others.reduce((n, [k, v]) => n + v.length + 2 * k.length + 40, target.marker.length)
      const mySection = section(Math.max(2_000, options.limit - used))
      const body = withSection(keeper?.body, target.marker, key, mySection)
      let id: number
      let url: string
      if (keeper) {
        const { data } = await octokit.rest.issues.updateComment({ ...where, comment_id: keeper.id, body })
        id = data.id
        url = data.html_url
      } else {
        const { data } = await octokit.rest.issues.createComment({
          ...where,
          issue_number: target.issueNumber,
          body
        })
        id = data.id
        url = data.html_url
        created = true
      }
      // Read back: is this run's section what it wrote, in the one comment that stays?
      const after = await ownMarked(octokit, target)
      const kept = after[0]
      if (after.length === 1 && kept && sectionsOf(kept.body).get(key) === neutralise(mySection.trimEnd()))
        return {
          action: created && kept.id === id ? 'created' : 'updated',
          id: kept.id,
          url: kept.id === id ? url : kept.url
        }
      if (attempt >= attempts)
        throw new Error(
          `the section ${JSON.stringify(key)} was overwritten by concurrent runs ${attempts} times in a row`
        )
      await new Promise(r => setTimeout(r, pause()))
    }
  } catch (err) {
    const skipped = notAllowed(err, target)
    if (skipped) return skipped
    throw err
  }
}

function notAllowed(err: unknown, target: StickyCommentTarget): StickyCommentResult | undefined {
  const status = (err as { status?: number }).status
  if (status === 403 || status === 401 || (status === 404 && isIntegrationError(err))) {
    return {
      action: 'skipped',
      reason: `the token may not write comments on ${target.owner}/${target.repo}#${target.issueNumber} (HTTP ${status}: ${(err as Error).message}); a fork's pull request gets a read-only token`
    }
  }
  return undefined
}

function isIntegrationError(err: unknown): boolean {
  return /Resource not accessible by integration/i.test((err as Error).message ?? '')
}
