import * as core from '@actions/core'
import { emitAnnotations } from '../../runtime/annotations.js'
import * as github from '@actions/github'
import * as glob from '@actions/glob'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join, relative, resolve } from 'node:path'
import {
  ActionError,
  appendSummary,
  formatDuration,
  group,
  lastLines,
  readInputs,
  setOutputs
} from '../../runtime/index.js'
import {
  checkThresholds,
  commentMarker,
  coverageDelta,
  mergeFiles,
  mergeTests,
  normaliseFailures,
  normaliseFiles,
  parseCoverage,
  parseJunit,
  parseLibtestOutput,
  parseLintOutput,
  percent,
  PlanError,
  renderComment,
  renderReport,
  testPlan,
  toStoredReport,
  totals,
  workspacePath,
  withCoverableCode,
  type CoverageReport,
  type LintResult,
  type ProjectFacts,
  type ReportInput,
  type TestResults
} from '../../coverage/index.js'
import { loadBase, storeCurrent, type BaseSource } from '../../coverage/base.js'
import {
  dependencyCache,
  lockfileHash,
  restoreEntry,
  saveEntry,
  type CacheEntry
} from '../../coverage/cache.js'
import { displayCommand, runStep, type CommandResult, type CommandStep } from '../../coverage/command.js'
import { cargoCoverageTool } from '../../coverage/tools.js'
import { upsertStickyComment } from '../../github/comments.js'
import { parseConfig, type Config } from './config.js'

export async function main(): Promise<void> {
  const config = readInputs(parseConfig)
  const ctx = runContext()
  const workdir = resolve(ctx.workspace, config.workingDirectory)
  if (!existsSync(workdir) || !statSync(workdir).isDirectory()) {
    throw new ActionError(
      `working-directory ${JSON.stringify(config.workingDirectory)} is not a directory (looked at ${workdir})`
    )
  }

  const depCache = config.cache ? dependencyCacheFor(config, workdir) : undefined
  const depHit = depCache ? await group(`Restore ${depCache.what}`, () => restoreEntry(depCache)) : undefined

  const plan = await group('Plan', async () => {
    const facts = await projectFacts(config, workdir)
    try {
      const p = testPlan({ preset: config.preset, command: config.command, lint: config.lint }, facts)
      core.info(
        `test: ${displayCommand(p.test)}${facts.cargoTool ? ` (coverage by cargo-${facts.cargoTool})` : ''}`
      )
      return p
    } catch (err) {
      if (err instanceof PlanError)
        throw new ActionError(`preset ${config.preset} in ${workdir}: ${err.message}`)
      throw err
    }
  })

  for (const step of plan.install) {
    const r = await group(displayCommand(step), () => runStep(step, workdir, config.timeoutMs))
    if (r.exitCode !== 0) throw commandFailed(step, r, config.timeoutMs)
  }

  const testRun = await group(`Tests: ${displayCommand(plan.test)}`, () =>
    runStep(plan.test, workdir, config.timeoutMs)
  )
  if (testRun.timedOut) throw commandFailed(plan.test, testRun, config.timeoutMs)
  core.info(`${plan.test.name} exited with ${testRun.exitCode} after ${formatDuration(testRun.durationMs)}`)

  const lint: LintResult[] = []
  for (const step of plan.lint) {
    const r = await group(`Lint: ${displayCommand(step)}`, () => runStep(step, workdir, config.timeoutMs))
    lint.push({
      name: step.name,
      command: displayCommand(step),
      passed: r.exitCode === 0,
      output: lastLines(r.output.trim(), 60).join('\n')
    })
    if (r.exitCode !== 0) {
      const found = parseLintOutput(r.output).map(d => ({
        level: d.level === 'error' ? ('error' as const) : ('warning' as const),
        message: d.message,
        properties: {
          title: step.name,
          file: workspacePath(d.file, ctx.workspace, workdir),
          startLine: d.line
        }
      }))
      emitAnnotations(found, `the whole output is in the log group "Lint: ${displayCommand(step)}"`)
    }
  }

  // Reports: coverage is required; tests come from JUnit files or the cargo test output.
  const coverageGlobs = config.coverageFiles.length > 0 ? config.coverageFiles : plan.coverageGlobs
  const coverageFiles = await findFiles(coverageGlobs, workdir)
  if (coverageFiles.length === 0) {
    const why =
      testRun.exitCode !== 0
        ? ` The test command ${displayCommand(plan.test)} failed with exit code ${testRun.exitCode}.`
        : ''
    throw new ActionError(
      `No coverage report matched ${coverageGlobs.map(g => JSON.stringify(g)).join(', ')} in ${workdir}.${why}`,
      {
        hint: 'Check that the test command writes coverage there, or set coverage-files to where it does.',
        details: lastLines(testRun.output.trim(), 30)
      }
    )
  }
  const reports: CoverageReport[] = coverageFiles.map(f =>
    parseCoverage(readFileSync(f, 'utf8'), relative(ctx.workspace, f) || f)
  )
  for (const r of reports) core.info(`read ${r.format} report ${r.source}: ${r.files.length} files`)
  // Paths first, so that one file named two ways by two reports (relative, absolute) is merged.
  const files = withCoverableCode(
    mergeFiles(reports.map(r => ({ ...r, files: normaliseFiles(r.files, ctx.workspace, workdir) })))
  )
  const sum = totals(files)

  const junitGlobs = config.junitFiles.length > 0 ? config.junitFiles : plan.junitGlobs
  const junitFiles = junitGlobs.length > 0 ? await findFiles(junitGlobs, workdir) : []
  if (config.junitFiles.length > 0 && junitFiles.length === 0)
    core.warning(`junit-files matched no file in ${workdir}: ${junitGlobs.join(', ')}`)
  let tests: TestResults | undefined
  if (junitFiles.length > 0)
    tests = mergeTests(
      junitFiles.map(f => parseJunit(readFileSync(f, 'utf8'), relative(ctx.workspace, f) || f))
    )
  else if (plan.libtestOutput && /^test result: /m.test(testRun.output))
    tests = parseLibtestOutput(testRun.output)
  if (tests) tests = { ...tests, failed: normaliseFailures(tests.failed, ctx.workspace, workdir) }

  // Base and delta, then this run's report stored for the next ones.
  const baseSource: BaseSource =
    config.baseCoverage.kind === 'cache'
      ? { kind: 'cache', dir: join(ctx.temp, 'otlp-test-coverage-reports'), job: ctx.job }
      : config.baseCoverage.kind === 'path'
        ? { kind: 'path', path: resolve(ctx.workspace, config.baseCoverage.path) }
        : { kind: 'none' }
  const baseSha = config.baseSha ?? ctx.baseSha
  const base = await group('Base coverage', async () => {
    const b = await loadBase(baseSource, baseSha !== ctx.sha ? baseSha : undefined)
    core.info(b.found ? `base ${b.sha.slice(0, 7)} from ${b.from}` : `no delta: ${b.note}`)
    return b
  })
  const delta = base.found ? coverageDelta(files, base.files, base.sha) : undefined
  const stored = await storeCurrent(
    baseSource,
    toStoredReport(files, ctx.sha, new Date()),
    join(ctx.temp, 'otlp-test-coverage')
  )

  const violations = checkThresholds(sum, config.minCoverage)
  const failed = tests ? tests.failures + tests.errors : 0
  const failures = (tests?.failed ?? []).map(f => {
    const properties: core.AnnotationProperties = { title: `${f.suite ? `${f.suite} › ` : ''}${f.name}` }
    if (f.file && !isAbsolute(f.file) && !f.file.startsWith('..')) {
      properties.file = f.file
      if (f.line) properties.startLine = f.line
    }
    const message = `${f.message}${f.details && f.details !== f.message ? `\n\n${lastLines(f.details, 15).join('\n')}` : ''}`
    return { level: 'error' as const, message, properties }
  })
  // The step then fails with one error more: room is kept for it.
  emitAnnotations(failures, 'the failed tests are listed in the job summary', { error: 1 })

  const report: ReportInput = {
    title: config.title,
    totals: sum,
    files,
    tests,
    delta,
    ...(base.found ? {} : { deltaNote: base.note }),
    violations,
    lint,
    maxFiles: 300,
    ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {})
  }
  const markdown = renderReport(report)
  const reportPath = join(ctx.temp, 'otlp-test-coverage', `${ctx.job}-report.md`)
  mkdirSync(join(ctx.temp, 'otlp-test-coverage'), { recursive: true })
  writeFileSync(reportPath, markdown)
  await appendSummary(markdown)

  const wantComment = config.comment ?? ctx.isPullRequest
  if (wantComment)
    await comment(
      config,
      ctx,
      renderComment(
        commentMarker(ctx.workflow, ctx.job, config.title === 'Test coverage' ? '' : config.title),
        report
      )
    )

  setOutputs({
    coverage: percent(sum.lines),
    'branch-coverage': percent(sum.branches),
    tests: tests?.tests ?? 0,
    failures: failed,
    skipped: tests?.skipped ?? 0,
    delta: delta?.lines,
    report: reportPath,
    'stored-report': stored
  })
  if (depCache) await group(`Save ${depCache.what}`, () => saveEntry(depCache, depHit))

  const reasons: string[] = []
  if (failed > 0) reasons.push(`${failed} of ${tests!.tests} tests failed`)
  else if (testRun.exitCode !== 0)
    reasons.push(`the test command ${displayCommand(plan.test)} failed with exit code ${testRun.exitCode}`)
  reasons.push(...violations.map(v => v.message))
  for (const l of lint.filter(l => !l.passed)) reasons.push(`${l.command} failed`)
  if (reasons.length > 0) {
    throw new ActionError(reasons.join('; '), {
      hint:
        failed > 0 || testRun.exitCode !== 0
          ? 'The failed tests are annotated and listed in the job summary.'
          : undefined,
      details: failed === 0 && testRun.exitCode !== 0 ? lastLines(testRun.output.trim(), 30) : []
    })
  }
}

interface RunContext {
  workspace: string
  temp: string
  sha: string
  baseSha: string | undefined
  job: string
  workflow: string
  isPullRequest: boolean
  prNumber: number | undefined
  owner: string
  repo: string
  runUrl: string | undefined
}

function runContext(): RunContext {
  const c = github.context
  const payload = c.payload as {
    pull_request?: { number?: number; base?: { sha?: string } }
    before?: string
  }
  const pr = payload.pull_request
  const before = payload.before && !/^0+$/.test(payload.before) ? payload.before : undefined
  const [owner = '', repo = ''] = (process.env.GITHUB_REPOSITORY ?? '').split('/')
  const server = process.env.GITHUB_SERVER_URL
  return {
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    temp: process.env.RUNNER_TEMP || tmpdir(),
    sha: process.env.GITHUB_SHA || 'unknown',
    baseSha: pr?.base?.sha ?? before,
    job: (process.env.GITHUB_JOB || 'job').replace(/[^\w.-]/g, '_'),
    workflow: process.env.GITHUB_WORKFLOW || 'workflow',
    isPullRequest: pr !== undefined,
    prNumber: pr?.number,
    owner,
    repo,
    runUrl:
      server && owner && process.env.GITHUB_RUN_ID
        ? `${server}/${owner}/${repo}/actions/runs/${process.env.GITHUB_RUN_ID}`
        : undefined
  }
}

async function comment(config: Config, ctx: RunContext, body: string): Promise<void> {
  if (!ctx.prNumber) {
    core.info('not a pull request event: no PR comment')
    return
  }
  if (!config.githubToken) {
    core.warning('github-token is empty: PR comment skipped')
    return
  }
  const target = {
    token: config.githubToken,
    owner: ctx.owner,
    repo: ctx.repo,
    issueNumber: ctx.prNumber,
    marker: body.split('\n', 1)[0]!
  }
  // The comment is a convenience: no API failure may turn the tests' verdict red.
  const result = await group('PR comment', () => upsertStickyComment(target, body)).catch((err: unknown) => ({
    action: 'skipped' as const,
    reason: `the GitHub API call failed: ${(err as Error).message}`
  }))
  if (result.action === 'skipped') core.warning(`PR comment skipped: ${result.reason}`)
  else core.info(`PR comment ${result.action}: ${result.url}`)
}

async function projectFacts(config: Config, workdir: string): Promise<ProjectFacts> {
  if (config.preset === 'cargo') {
    if (!existsSync(join(workdir, 'Cargo.toml')))
      throw new ActionError(`preset cargo: there is no Cargo.toml in ${workdir}`, {
        hint: 'Set working-directory to the crate or workspace root.'
      })
    if (config.command) return {}
    const { tool, binDir } = await cargoCoverageTool(workdir, config.cache)
    return binDir ? { cargoTool: tool, toolBinDir: binDir } : { cargoTool: tool }
  }
  if (config.preset === 'npm') {
    const file = join(workdir, 'package.json')
    if (!existsSync(file))
      throw new ActionError(`preset npm: there is no package.json in ${workdir}`, {
        hint: 'Set working-directory to the package root.'
      })
    let packageJson: ProjectFacts['packageJson']
    try {
      packageJson = JSON.parse(readFileSync(file, 'utf8')) as ProjectFacts['packageJson']
    } catch (err) {
      throw new ActionError(`${file} is not valid JSON: ${(err as Error).message}`)
    }
    return {
      packageJson,
      hasNodeModules: existsSync(join(workdir, 'node_modules')),
      hasPackageLock: existsSync(join(workdir, 'package-lock.json'))
    }
  }
  return {}
}

function dependencyCacheFor(config: Config, workdir: string): CacheEntry | undefined {
  if (config.preset === 'custom') {
    core.info('cache: nothing to cache for preset custom')
    return undefined
  }
  const lockName = config.preset === 'cargo' ? 'Cargo.lock' : 'package-lock.json'
  const lock = [join(workdir, lockName), join(workdir, '..', lockName)].find(existsSync)
  if (!lock) {
    core.warning(
      `cache: no ${lockName} in ${workdir}, so there is no key for the dependency cache; not caching`
    )
    return undefined
  }
  return dependencyCache(config.preset, workdir, lockfileHash(readFileSync(lock)))
}

async function findFiles(patterns: readonly string[], workdir: string): Promise<string[]> {
  const absolute = patterns.map(p =>
    p.startsWith('!') ? `!${resolve(workdir, p.slice(1))}` : resolve(workdir, p)
  )
  const globber = await glob.create(absolute.join('\n'), {
    matchDirectories: false,
    implicitDescendants: false
  })
  return (await globber.glob()).sort()
}

function commandFailed(step: CommandStep, r: CommandResult, timeoutMs: number): ActionError {
  if (r.timedOut) {
    return new ActionError(
      `${displayCommand(step)} did not finish within the timeout of ${formatDuration(timeoutMs)} and was stopped`,
      {
        hint: 'Raise the timeout input if the tests need longer, or look for a hanging test in the log above.',
        details: lastLines(r.output.trim(), 20)
      }
    )
  }
  return new ActionError(`${displayCommand(step)} failed with exit code ${r.exitCode}`, {
    details: lastLines(r.output.trim(), 30)
  })
}
