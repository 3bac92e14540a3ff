import * as github from '@actions/github'
import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { emitAnnotations, type Annotation } from '../../runtime/annotations.js'
import { ActionError, appendSummary, readInputs, setOutputs } from '../../runtime/index.js'
import { renderReport } from '../../coverage/markdown.js'
import { postCommentFile, publishComment } from '../../coverage/publish.js'
import { runCoverage, type CoverageContext } from '../../coverage/run.js'
import { parseConfig } from './config.js'

export async function main(): Promise<void> {
  const config = readInputs(parseConfig)
  const ctx = runContext()
  if (config.mode === 'comment') {
    const posted = await postCommentFile(config, ctx)
    setOutputs({ 'comment-url': posted.action === 'skipped' ? '' : posted.url })
    return
  }

  const annotations: Annotation[] = []
  const run = await runCoverage(config, ctx, annotations).catch((err: unknown) => {
    // What the phases before the failure found (lint findings, say) is still shown.
    emitAnnotations(annotations, 'the log lists them', { error: 1 })
    throw err
  })
  const markdown = renderReport(run.report)
  const dir = join(ctx.temp, 'otlp-test-coverage')
  mkdirSync(dir, { recursive: true })
  const reportPath = join(dir, `${ctx.job}-report.md`)
  writeFileSync(reportPath, markdown)
  await appendSummary(markdown)
  // The step then fails with one error more: room is kept for it.
  emitAnnotations(run.annotations, 'the job summary lists them', { error: run.failure ? 1 : 0 })

  const commentFile =
    (config.comment ?? ctx.isPullRequest) ? await publishComment(config, ctx, run.report) : undefined
  setOutputs({ ...run.outputs, report: reportPath, 'comment-file': commentFile })
  if (run.failure)
    throw new ActionError(run.failure.message, { hint: run.failure.hint, details: run.failure.details })
}

function runContext(): CoverageContext {
  const c = github.context
  const payload = c.payload as {
    pull_request?: { number?: number; base?: { sha?: string }; head?: { sha?: string } }
    before?: string
  }
  const pr = payload.pull_request
  const before = payload.before && !/^0+$/.test(payload.before) ? payload.before : undefined
  const [owner = '', repo = ''] = (process.env.GITHUB_REPOSITORY ?? '').split('/')
  const server = process.env.GITHUB_SERVER_URL || undefined
  return {
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    temp: process.env.RUNNER_TEMP || tmpdir(),
    sha: process.env.GITHUB_SHA || 'unknown',
    baseSha: pr?.base?.sha ?? before,
    prHead: pr?.head?.sha,
    job: (process.env.GITHUB_JOB || 'job').replace(/[^\w.-]/g, '_'),
    workflow: process.env.GITHUB_WORKFLOW || 'workflow',
    isPullRequest: pr !== undefined,
    prNumber: pr?.number,
    owner,
    repo,
    serverUrl: server,
    runUrl:
      server && owner && process.env.GITHUB_RUN_ID
        ? `${server}/${owner}/${repo}/actions/runs/${process.env.GITHUB_RUN_ID}`
        : undefined
  }
}
