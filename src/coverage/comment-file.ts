/**
 * The comment a test job leaves for a later, trusted job to post (pure). A fork's pull request runs
 * its tests with a read-only token; it writes this file (and, with report-artifact, uploads it),
 * and a `workflow_run` job with `pull-requests: write` posts it with `mode: comment`. The file
 * comes from code under test, so the posting job trusts nothing in it that it can check: the pull
 * request must exist and its head must be the commit the tests ran on (from the workflow_run
 * event, not from the file), the marker must be this action's, and the body is kept within
 * GitHub's limit with no hidden comment that could pass for a marker or a section.
 */
import { ActionError } from '../runtime/index.js'
import { neutralise } from '../github/sections.js'
import { COMMENT_LIMIT } from './markdown.js'
import type { CommentLayout } from './types.js'

export const COMMENT_FILE_SCHEMA = 'otlp-deploy-actions/coverage-comment@1'
export const COMMENT_FILE_NAME = 'coverage-comment.json'

export interface CommentFile {
  schema: typeof COMMENT_FILE_SCHEMA
  repository: string
  pullRequest: number
  /** The pull request's head commit the tests ran for. */
  headSha: string
  layout: CommentLayout
  marker: string
  /** The section's key (comment-layout: sections). */
  key?: string
  /** The whole comment (separate), or the section (sections), without the marker. */
  body: string
}

const MARKER = /^<!-- otlp-deploy-actions\/test-coverage:[^\n>]{1,300} -->$/

export function parseCommentFile(text: string, source: string): CommentFile {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new ActionError(`${source} is not JSON: ${(err as Error).message}`)
  }
  const bad = (what: string) =>
    new ActionError(`${source} is not a test-coverage comment file: ${what}`, {
      hint: 'It is written by the test job (mode: test) as the comment-file output; pass that file or artifact unchanged.'
    })
  if (typeof doc !== 'object' || doc === null) throw bad('not an object')
  const d = doc as Record<string, unknown>
  if (d.schema !== COMMENT_FILE_SCHEMA) throw bad(`schema is ${JSON.stringify(d.schema)}, not ${COMMENT_FILE_SCHEMA}`)
  if (typeof d.repository !== 'string' || !/^[\w.-]+\/[\w.-]+$/.test(d.repository)) throw bad('repository is not owner/name')
  if (typeof d.pullRequest !== 'number' || !Number.isInteger(d.pullRequest) || d.pullRequest < 1) throw bad('pullRequest is not a pull request number')
  if (typeof d.headSha !== 'string' || !/^[0-9a-f]{40}$/.test(d.headSha)) throw bad('headSha is not a commit SHA')
  if (d.layout !== 'separate' && d.layout !== 'sections') throw bad('layout is neither separate nor sections')
  if (typeof d.marker !== 'string' || !MARKER.test(d.marker)) throw bad("marker is not this action's")
  if (d.layout === 'sections' && (typeof d.key !== 'string' || d.key === '' || /-->|\n/.test(d.key))) throw bad('key is not a section key')
  if (typeof d.body !== 'string') throw bad('body is not text')
  const body = neutralise(d.body)
  return {
    schema: COMMENT_FILE_SCHEMA,
    repository: d.repository,
    pullRequest: d.pullRequest,
    headSha: d.headSha,
    layout: d.layout,
    marker: d.marker,
    ...(d.layout === 'sections' ? { key: d.key as string } : {}),
    body: body.length > COMMENT_LIMIT - d.marker.length - 1 ? `${body.slice(0, COMMENT_LIMIT - d.marker.length - 60)}\n\n… (cut to GitHub's comment limit)` : body
  }
}

/** The pull request a workflow_run event is about, as GitHub says (never as the file says). */
export interface RunFacts {
  headSha: string
  headRepository: string
}

/** Refuses a comment file that names another pull request or commit than the run that wrote it. */
export function checkCommentTarget(
  file: CommentFile,
  repository: string,
  run: RunFacts,
  pull: { number: number; headSha: string; headRepository: string } | undefined
): void {
  const refuse = (why: string) =>
    new ActionError(`The comment file is not posted: ${why}`, {
      hint: 'A comment file from a pull request is posted only on that pull request, for the commit its tests ran on.'
    })
  if (file.repository !== repository) throw refuse(`it is for ${file.repository}, and this is ${repository}`)
  if (file.headSha !== run.headSha)
    throw refuse(`it is for commit ${file.headSha.slice(0, 7)}, and the workflow run tested ${run.headSha.slice(0, 7)}`)
  if (!pull) throw refuse(`pull request #${file.pullRequest} does not exist in ${repository}`)
  if (pull.headSha !== run.headSha)
    throw refuse(`pull request #${pull.number}'s head is ${pull.headSha.slice(0, 7)}, not ${run.headSha.slice(0, 7)}, the commit the workflow run tested (a newer push, or another pull request)`)
  if (pull.headRepository !== run.headRepository)
    throw refuse(`pull request #${pull.number} comes from ${pull.headRepository}, and the workflow run from ${run.headRepository}`)
}
