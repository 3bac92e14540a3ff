/**
 * Where the report goes besides the job summary (effects): the sticky pull request comment, in
 * one of two layouts, or, for a fork's pull request, a comment file that a trusted `workflow_run`
 * job posts (`mode: comment`), handed over as an artifact.
 */
import { DefaultArtifactClient } from '@actions/artifact'
import * as core from '@actions/core'
import * as github from '@actions/github'
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { upsertStickyComment, upsertStickySection, type StickyCommentResult } from '../github/comments.js'
import { sectionKey } from '../github/sections.js'
import { ActionError, group } from '../runtime/index.js'
import { checkCommentTarget, COMMENT_FILE_NAME, COMMENT_FILE_SCHEMA, parseCommentFile, type CommentFile } from './comment-file.js'
import { commentMarker, COMMENT_LIMIT, fitReport, type ReportInput } from './markdown.js'
import type { CoverageContext } from './run.js'
import type { Config } from './types.js'

/** Room for one section of a shared comment when it is rendered ahead of time (a comment file). */
const SECTION_ROOM = 20_000

/** The comment's marker: per workflow, job and title, or per workflow when sections share it. */
export function markerFor(config: Config, ctx: CoverageContext): string {
  // A space cannot be in a job id, so this marker is never a job's.
  if (config.commentLayout === 'sections') return commentMarker(`${ctx.workflow} sections`, '')
  return commentMarker(ctx.workflow, ctx.job, config.title === 'Test coverage' ? '' : config.title)
}

/** The comment file this run leaves (pure). */
export function commentFileFor(config: Config, ctx: CoverageContext, report: ReportInput): CommentFile | undefined {
  if (!ctx.prNumber) return undefined
  const marker = markerFor(config, ctx)
  const sections = config.commentLayout === 'sections'
  return {
    schema: COMMENT_FILE_SCHEMA,
    repository: `${ctx.owner}/${ctx.repo}`,
    pullRequest: ctx.prNumber,
    headSha: ctx.prHead ?? '',
    layout: config.commentLayout,
    marker,
    ...(sections ? { key: sectionKey(config.title) } : {}),
    body: fitReport(report, sections ? SECTION_ROOM : COMMENT_LIMIT - marker.length - 1)
  }
}

/**
 * Test mode: writes the comment file (for an artifact), and posts the comment unless a later
 * `mode: comment` job will (report-artifact). Returns the comment file's path.
 */
export async function publishComment(config: Config, ctx: CoverageContext, report: ReportInput): Promise<string | undefined> {
  const file = commentFileFor(config, ctx, report)
  if (!file) {
    core.info('not a pull request event: no PR comment')
    return undefined
  }
  const dir = join(ctx.temp, 'otlp-test-coverage', `${ctx.job}-comment`)
  let path: string | undefined
  // A comment file names the commit its tests ran for; an event without the PR's head has none.
  if (file.headSha) {
    mkdirSync(dir, { recursive: true })
    path = join(dir, COMMENT_FILE_NAME)
    writeFileSync(path, JSON.stringify(file, null, 1) + '\n')
  }
  if (config.reportArtifact) {
    if (!path) {
      core.warning(`report-artifact: the event names no pull request head commit, so no comment file was written`)
      return undefined
    }
    // Like the comment it carries, the artifact is a convenience: a failed upload is a warning.
    await group(`Upload the comment as artifact ${config.reportArtifact}`, async () => {
      const { id, size } = await new DefaultArtifactClient().uploadArtifact(config.reportArtifact!, [path!], dir, {
        retentionDays: 7
      })
      core.info(`artifact ${config.reportArtifact} (id ${id}, ${size} bytes): a mode: comment job posts it`)
    }).catch((err: unknown) => core.warning(`report-artifact ${config.reportArtifact} was not uploaded: ${(err as Error).message}`))
    return path
  }
  if (!config.githubToken) {
    core.warning('github-token is empty: PR comment skipped')
    return path
  }
  await post(config.githubToken, ctx, file)
  return path
}

/** Comment mode: the test job's comment file, checked against the workflow run, posted. */
export async function postCommentFile(config: Config, ctx: CoverageContext): Promise<StickyCommentResult> {
  const { text, source } = config.commentFile
    ? { text: readFileSync(resolve(ctx.workspace, config.commentFile), 'utf8'), source: config.commentFile }
    : await group(`Download artifact ${config.reportArtifact}`, () => downloadCommentFile(config, ctx))
  const file = parseCommentFile(text, source)
  const run = workflowRunFacts()
  const octokit = github.getOctokit(config.githubToken)
  const pull = await octokit.rest.pulls
    .get({ owner: ctx.owner, repo: ctx.repo, pull_number: file.pullRequest })
    .then(r => ({ number: r.data.number, headSha: r.data.head.sha, headRepository: r.data.head.repo?.full_name ?? '' }))
    .catch((err: unknown) => {
      if ((err as { status?: number }).status === 404) return undefined
      throw err
    })
  checkCommentTarget(file, `${ctx.owner}/${ctx.repo}`, run, pull)
  const result = await post(config.githubToken, { ...ctx, prNumber: file.pullRequest }, file)
  if (result.action === 'skipped') throw new ActionError(`The comment could not be posted: ${result.reason}`, { hint: 'mode: comment needs a token with pull-requests: write.' })
  return result
}

async function post(token: string, ctx: CoverageContext, file: CommentFile): Promise<StickyCommentResult> {
  const target = { token, owner: ctx.owner, repo: ctx.repo, issueNumber: file.pullRequest, marker: file.marker }
  // The comment is a convenience in test mode: no API failure may turn the tests' verdict red.
  const result = await group('PR comment', () =>
    file.layout === 'sections'
      ? upsertStickySection(target, file.key!, room => (file.body.length <= room ? file.body : `${file.body.slice(0, room - 40)}\n\n… (cut to fit)`), {
          limit: COMMENT_LIMIT
        })
      : upsertStickyComment(target, `${file.marker}\n${file.body}`)
  ).catch((err: unknown): StickyCommentResult => ({ action: 'skipped', reason: `the GitHub API call failed: ${(err as Error).message}` }))
  if (result.action === 'skipped') core.warning(`PR comment skipped: ${result.reason}`)
  else core.info(`PR comment ${result.action}: ${result.url}`)
  return result
}

/** What the workflow_run event says about the run whose report this is. */
function workflowRunFacts(): { headSha: string; headRepository: string } {
  const run = (github.context.payload as { workflow_run?: { head_sha?: string; head_repository?: { full_name?: string } } }).workflow_run
  if (!run?.head_sha || !run.head_repository?.full_name)
    throw new ActionError(`mode: comment runs on the workflow_run event (this is ${github.context.eventName || 'unknown'})`, {
      hint: 'It checks the comment against the event\'s head commit and repository: run it in a workflow triggered by workflow_run of the test workflow.'
    })
  return { headSha: run.head_sha, headRepository: run.head_repository.full_name }
}

async function downloadCommentFile(config: Config, ctx: CoverageContext): Promise<{ text: string; source: string }> {
  const runId = config.runId ?? (github.context.payload as { workflow_run?: { id?: number } }).workflow_run?.id
  if (!runId) throw new ActionError('run-id is empty and the event has no workflow_run: which run left the report?')
  const findBy = { token: config.githubToken, workflowRunId: runId, repositoryOwner: ctx.owner, repositoryName: ctx.repo }
  const client = new DefaultArtifactClient()
  const { artifact } = await client.getArtifact(config.reportArtifact!, { findBy }).catch((err: unknown) => {
    throw new ActionError(`artifact ${config.reportArtifact} of run ${runId}: ${(err as Error).message}`, {
      hint: 'The test job uploads it with report-artifact; the token needs actions: read.'
    })
  })
  const dir = join(ctx.temp, 'otlp-test-coverage', `comment-${runId}`)
  await client.downloadArtifact(artifact.id, { path: dir, findBy })
  const name = readdirSync(dir).find(f => f === COMMENT_FILE_NAME)
  if (!name) throw new ActionError(`artifact ${config.reportArtifact} of run ${runId} holds no ${COMMENT_FILE_NAME}`)
  return { text: readFileSync(join(dir, name), 'utf8'), source: `artifact ${config.reportArtifact} (run ${runId})` }
}
