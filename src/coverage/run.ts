/**
 * The test-coverage story as phases over one context: restore dependencies -> plan -> install ->
 * tests -> lint -> read the reports -> base and delta (stored reports, never a re-run) -> patch
 * coverage (git) -> thresholds and verdict (pure) -> save dependencies. It returns what the action
 * renders (summary, comment, outputs, annotations, the error); it writes none of those itself.
 */
import * as core from '@actions/core'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import type { Annotation } from '../runtime/annotations.js'
import { ActionError, formatDuration, group, lastLines, type OutputValue } from '../runtime/index.js'
import { loadBase, storeCurrent, type BaseSource } from './base.js'
import { restoreEntry, saveEntry } from './cache.js'
import { displayCommand, runStep, type CommandResult, type CommandStep } from './command.js'
import { coverageDelta } from './delta.js'
import { parseCoverage } from './detect.js'
import { lineRanges } from './diff.js'
import { changedLines, linkCommits } from './git.js'
import { parseLintOutput } from './lint.js'
import type { LintResult, ReportInput } from './markdown.js'
import { mergeFiles, mergeTests, percent, totals, withCoverableCode, type CoverageReport, type FileCoverage, type TestResults } from './model.js'
import { parseJunit } from './parse/junit.js'
import { parseLibtestOutput } from './parse/libtest.js'
import { patchCoverage, type PatchCoverage } from './patch.js'
import { normaliseFailures, normaliseFiles, workspacePath } from './paths.js'
import { PlanError, testPlan, type TestPlan } from './plan.js'
import { dependencyCacheFor, findFiles, projectFacts } from './project.js'
import { toStoredReport } from './store.js'
import { checkPatchThreshold, checkPathThresholds, checkThresholds, type Violation } from './thresholds.js'
import type { Config } from './types.js'

/** The run's facts from the runner and the event (read once, at the door). */
export interface CoverageContext {
  workspace: string
  temp: string
  sha: string
  /** The pull request's base commit, or a push's previous tip. */
  baseSha: string | undefined
  /** The pull request's head commit (the tested commit is its merge commit on pull_request). */
  prHead: string | undefined
  job: string
  workflow: string
  isPullRequest: boolean
  prNumber: number | undefined
  owner: string
  repo: string
  serverUrl: string | undefined
  runUrl: string | undefined
}

export interface CoverageRun {
  report: ReportInput
  annotations: Annotation[]
  outputs: Record<string, OutputValue>
  /** Why the step fails; undefined when it passes. */
  failure?: { message: string; hint?: string; details: string[] }
}

interface Run {
  config: Config
  ctx: CoverageContext
  workdir: string
  annotations: Annotation[]
}

/**
 * `annotations` is the caller's: what a phase found (lint, failed tests, uncovered lines) is there
 * even when a later phase throws (no coverage report), so the caller can still show it.
 */
export async function runCoverage(
  config: Config,
  ctx: CoverageContext,
  annotations: Annotation[] = []
): Promise<CoverageRun> {
  const run: Run = { config, ctx, workdir: workdirOf(config, ctx), annotations }
  const depCache = config.cache ? dependencyCacheFor(config, run.workdir) : undefined
  const depHit = depCache ? await group(`Restore ${depCache.what}`, () => restoreEntry(depCache)) : undefined

  const plan = await group('Plan', () => planTests(run))
  for (const step of plan.install) {
    const r = await group(displayCommand(step), () => runStep(step, run.workdir, config.timeoutMs))
    if (r.exitCode !== 0) throw commandFailed(step, r, config.timeoutMs)
  }
  const testRun = await group(`Tests: ${displayCommand(plan.test)}`, () => runStep(plan.test, run.workdir, config.timeoutMs))
  if (testRun.timedOut) throw commandFailed(plan.test, testRun, config.timeoutMs)
  core.info(`${plan.test.name} exited with ${testRun.exitCode} after ${formatDuration(testRun.durationMs)}`)
  const lint = await runLint(run, plan)

  const files = await readCoverage(run, plan, testRun)
  const tests = await readTests(run, plan, testRun)
  const { delta, deltaNote, stored } = await baseAndDelta(run, files)
  const patch: PatchPhase = config.patchCoverage
    ? await group('Patch coverage', () => patchPhase(run, files))
    : { note: 'patch-coverage is false' }

  const sum = totals(files)
  const paths = checkPathThresholds(files, config.minCoverage.paths)
  const violations: Violation[] = [
    ...checkThresholds(sum, config.minCoverage.total),
    ...paths.flatMap(p => p.violations),
    ...(patch.coverage ? checkPatchThreshold(patch.coverage, config.minPatchCoverage) : patchUnknown(config, ctx, patch))
  ]
  run.annotations.push(...failureAnnotations(tests))
  if (depCache) await group(`Save ${depCache.what}`, () => saveEntry(depCache, depHit))

  const report: ReportInput = {
    title: config.title,
    totals: sum,
    files,
    tests,
    delta,
    ...(deltaNote ? { deltaNote } : {}),
    violations,
    lint,
    maxFiles: 300,
    ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}),
    ...(patch.coverage ? { patch: patch.coverage, blobUrls: patch.blobUrls } : patch.note ? { patchNote: patch.note } : {}),
    paths
  }
  const failed = tests ? tests.failures + tests.errors : 0
  return {
    report,
    annotations: run.annotations,
    outputs: {
      coverage: percent(sum.lines),
      'branch-coverage': percent(sum.branches),
      tests: tests?.tests ?? 0,
      failures: failed,
      skipped: tests?.skipped ?? 0,
      delta: delta?.lines,
      'patch-coverage': patch.coverage ? percent(patch.coverage.lines) : undefined,
      'patch-lines': patch.coverage?.lines.found,
      'patch-covered': patch.coverage?.lines.hit,
      'stored-report': stored
    },
    failure: verdict(plan, testRun, tests, violations, lint)
  }
}

function workdirOf(config: Config, ctx: CoverageContext): string {
  const workdir = resolve(ctx.workspace, config.workingDirectory)
  if (!existsSync(workdir) || !statSync(workdir).isDirectory()) {
    throw new ActionError(
      `working-directory ${JSON.stringify(config.workingDirectory)} is not a directory (looked at ${workdir})`
    )
  }
  return workdir
}

async function planTests(run: Run): Promise<TestPlan> {
  const { config, workdir } = run
  const facts = await projectFacts(config, workdir)
  try {
    const p = testPlan({ preset: config.preset, command: config.command, lint: config.lint }, facts)
    core.info(`test: ${displayCommand(p.test)}${facts.cargoTool ? ` (coverage by cargo-${facts.cargoTool})` : ''}`)
    return p
  } catch (err) {
    if (err instanceof PlanError) throw new ActionError(`preset ${config.preset} in ${workdir}: ${err.message}`)
    throw err
  }
}

async function runLint(run: Run, plan: TestPlan): Promise<LintResult[]> {
  const lint: LintResult[] = []
  for (const step of plan.lint) {
    const r = await group(`Lint: ${displayCommand(step)}`, () => runStep(step, run.workdir, run.config.timeoutMs))
    lint.push({
      name: step.name,
      command: displayCommand(step),
      passed: r.exitCode === 0,
      output: lastLines(r.output.trim(), 60).join('\n')
    })
    if (r.exitCode === 0) continue
    for (const d of parseLintOutput(r.output)) {
      run.annotations.push({
        level: d.level === 'error' ? 'error' : 'warning',
        message: d.message,
        properties: { title: step.name, file: workspacePath(d.file, run.ctx.workspace, run.workdir), startLine: d.line },
        more: `the whole lint output is in the log group "Lint: ${displayCommand(step)}"`
      })
    }
  }
  return lint
}

/** Coverage is required: no report is an error that says where it looked and why it may be missing. */
async function readCoverage(run: Run, plan: TestPlan, testRun: CommandResult): Promise<FileCoverage[]> {
  const { config, ctx, workdir } = run
  const globs = config.coverageFiles.length > 0 ? config.coverageFiles : plan.coverageGlobs
  const found = await findFiles(globs, workdir)
  if (found.length === 0) {
    const why =
      testRun.exitCode !== 0 ? ` The test command ${displayCommand(plan.test)} failed with exit code ${testRun.exitCode}.` : ''
    throw new ActionError(`No coverage report matched ${globs.map(g => JSON.stringify(g)).join(', ')} in ${workdir}.${why}`, {
      hint: 'Check that the test command writes coverage there, or set coverage-files to where it does.',
      details: lastLines(testRun.output.trim(), 30)
    })
  }
  const reports: CoverageReport[] = found.map(f => parseCoverage(readFileSync(f, 'utf8'), relative(ctx.workspace, f) || f))
  for (const r of reports) core.info(`read ${r.format} report ${r.source}: ${r.files.length} files`)
  // Paths first, so that one file named two ways by two reports (relative, absolute) is merged.
  return withCoverableCode(mergeFiles(reports.map(r => ({ ...r, files: normaliseFiles(r.files, ctx.workspace, workdir) }))))
}

/** Tests come from JUnit files, else from the cargo test output. */
async function readTests(run: Run, plan: TestPlan, testRun: CommandResult): Promise<TestResults | undefined> {
  const { config, ctx, workdir } = run
  const globs = config.junitFiles.length > 0 ? config.junitFiles : plan.junitGlobs
  const found = globs.length > 0 ? await findFiles(globs, workdir) : []
  if (config.junitFiles.length > 0 && found.length === 0) core.warning(`junit-files matched no file in ${workdir}: ${globs.join(', ')}`)
  let tests: TestResults | undefined
  if (found.length > 0) tests = mergeTests(found.map(f => parseJunit(readFileSync(f, 'utf8'), relative(ctx.workspace, f) || f)))
  else if (plan.libtestOutput && /^test result: /m.test(testRun.output)) tests = parseLibtestOutput(testRun.output)
  return tests && { ...tests, failed: normaliseFailures(tests.failed, ctx.workspace, workdir) }
}

/** The base commit's stored report and the delta against it, then this run's report stored for the next ones. */
async function baseAndDelta(run: Run, files: FileCoverage[]) {
  const { config, ctx } = run
  const source: BaseSource =
    config.baseCoverage.kind === 'cache'
      ? { kind: 'cache', dir: join(ctx.temp, 'otlp-test-coverage-reports'), job: ctx.job }
      : config.baseCoverage.kind === 'path'
        ? { kind: 'path', path: resolve(ctx.workspace, config.baseCoverage.path) }
        : { kind: 'none' }
  const baseSha = config.baseSha ?? ctx.baseSha
  const base = await group('Base coverage', async () => {
    const b = await loadBase(source, baseSha !== ctx.sha ? baseSha : undefined)
    core.info(b.found ? `base ${b.sha.slice(0, 7)} from ${b.from}` : `no delta: ${b.note}`)
    return b
  })
  const stored = await storeCurrent(source, toStoredReport(files, ctx.sha, new Date()), join(ctx.temp, 'otlp-test-coverage'))
  return base.found
    ? { delta: coverageDelta(files, base.files, base.sha), deltaNote: undefined, stored }
    : { delta: undefined, deltaNote: base.note, stored }
}

interface PatchPhase {
  coverage?: PatchCoverage
  blobUrls?: Map<string, string>
  /** Why there is none. */
  note?: string
  /** True when the change was known but git could not give its lines: a threshold cannot be checked. */
  unknown?: boolean
}

/** The lines the change adds (git), their coverage, and an annotation per uncovered range. */
async function patchPhase(run: Run, files: FileCoverage[]): Promise<PatchPhase> {
  const { config, ctx } = run
  const base = config.baseSha ?? ctx.baseSha
  if (!base) return { note: 'no base commit to compare with (neither a pull request, a push with a previous commit, nor base-sha)' }
  const changed = await changedLines({ workspace: ctx.workspace, base, log: line => core.info(line) })
  if (!changed.ok) {
    core.info(`no patch coverage: ${changed.reason}`)
    return { note: changed.reason, unknown: true }
  }
  const coverage = patchCoverage(files, changed.files, { base: changed.mergeBase, head: changed.head })
  core.info(
    `${changed.files.length} changed files from ${changed.mergeBase.slice(0, 7)} to ${changed.head.slice(0, 7)}: ${coverage.lines.hit} of ${coverage.lines.found} coverable added lines covered`
  )
  const withGaps = coverage.files.filter(f => f.uncovered.length > 0).map(f => f.repoPath)
  const commits = await linkCommits(ctx.workspace, changed.head, ctx.prHead, withGaps)
  const blobUrls = new Map<string, string>()
  if (ctx.serverUrl && ctx.owner)
    for (const [path, sha] of commits) blobUrls.set(path, `${ctx.serverUrl}/${ctx.owner}/${ctx.repo}/blob/${sha}/${encodeURI(path)}`)
  for (const f of coverage.files) {
    for (const [start, end] of lineRanges(f.uncovered)) {
      run.annotations.push({
        level: 'warning',
        message: start === end ? `Added line ${start} is not covered by tests` : `Added lines ${start}-${end} are not covered by tests`,
        properties: { title: 'Not covered', file: f.repoPath, startLine: start, endLine: end },
        more: 'the uncovered changed lines are listed in the job summary'
      })
    }
  }
  return { coverage, blobUrls }
}

/** A patch threshold that could not be checked fails, saying why; without a change to measure there is nothing to check. */
function patchUnknown(config: Config, ctx: CoverageContext, patch: PatchPhase): Violation[] {
  if (config.minPatchCoverage === undefined || !patch.unknown) return []
  // A push's previous tip can be gone for good (a force push): no verdict then, only a warning. A
  // pull request's base, or a base-sha given, is always there to fetch: missing, it fails.
  if (!ctx.isPullRequest && !config.baseSha) {
    core.warning(`min-patch-coverage ${config.minPatchCoverage}% not checked: ${patch.note}`)
    return []
  }
  return [
    {
      metric: 'patch',
      actual: undefined,
      minimum: config.minPatchCoverage,
      message: `patch coverage cannot be measured, so it cannot meet min-patch-coverage ${config.minPatchCoverage}%: ${patch.note}`
    }
  ]
}

function failureAnnotations(tests: TestResults | undefined): Annotation[] {
  return (tests?.failed ?? []).map(f => {
    const properties: core.AnnotationProperties = { title: `${f.suite ? `${f.suite} › ` : ''}${f.name}` }
    if (f.file && !isAbsolute(f.file) && !f.file.startsWith('..')) {
      properties.file = f.file
      if (f.line) properties.startLine = f.line
    }
    const message = `${f.message}${f.details && f.details !== f.message ? `\n\n${lastLines(f.details, 15).join('\n')}` : ''}`
    return { level: 'error' as const, message, properties, more: 'the failed tests are listed in the job summary' }
  })
}

/** Why the step fails (pure): failed tests, else a failed test command; thresholds; lint. */
export function verdict(
  plan: TestPlan,
  testRun: Pick<CommandResult, 'exitCode' | 'output'>,
  tests: TestResults | undefined,
  violations: readonly Violation[],
  lint: readonly LintResult[]
): CoverageRun['failure'] {
  const failed = tests ? tests.failures + tests.errors : 0
  const reasons: string[] = []
  if (failed > 0) reasons.push(`${failed} of ${tests!.tests} tests failed`)
  else if (testRun.exitCode !== 0) reasons.push(`the test command ${displayCommand(plan.test)} failed with exit code ${testRun.exitCode}`)
  reasons.push(...violations.map(v => v.message))
  for (const l of lint.filter(l => !l.passed)) reasons.push(`${l.command} failed`)
  if (reasons.length === 0) return undefined
  return {
    message: reasons.join('; '),
    ...(failed > 0 || testRun.exitCode !== 0 ? { hint: 'The failed tests are annotated and listed in the job summary.' } : {}),
    details: failed === 0 && testRun.exitCode !== 0 ? lastLines(testRun.output.trim(), 30) : []
  }
}

function commandFailed(step: CommandStep, r: CommandResult, timeoutMs: number): ActionError {
  if (r.timedOut) {
    return new ActionError(`${displayCommand(step)} did not finish within the timeout of ${formatDuration(timeoutMs)} and was stopped`, {
      hint: 'Raise the timeout input if the tests need longer, or look for a hanging test in the log above.',
      details: lastLines(r.output.trim(), 20)
    })
  }
  return new ActionError(`${displayCommand(step)} failed with exit code ${r.exitCode}`, { details: lastLines(r.output.trim(), 30) })
}
