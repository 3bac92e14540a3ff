import { md } from '../runtime/index.js'
import type { CoverageDelta } from './delta.js'
import { percent, uncoveredRanges, type CoverageTotals, type FileCoverage, type TestResults } from './model.js'
import type { PatchCoverage } from './patch.js'
import { lineRanges } from './diff.js'
import type { PathResult, Violation } from './thresholds.js'

export interface LintResult {
  name: string
  command: string
  passed: boolean
  /** The diagnostics or the tail of the output, shown when it failed. */
  output: string
}

export interface ReportInput {
  title: string
  totals: CoverageTotals
  files: readonly FileCoverage[]
  tests: TestResults | undefined
  delta: CoverageDelta | undefined
  /** Why there is no delta, when there is none (no base report for abc1234, say). */
  deltaNote?: string
  violations: readonly Violation[]
  lint: readonly LintResult[]
  /** Rows in the per-file table; the rest are counted, not listed. */
  maxFiles: number
  /** Failures listed in full. */
  maxFailures?: number
  /** A link to the run, shown at the bottom. */
  runUrl?: string
  /** Coverage of the lines the change adds. */
  patch?: PatchCoverage
  /** Why there is no patch coverage, when there is none. */
  patchNote?: string
  /** Per changed file (as git names it), the blob URL its lines link to (`…/blob/<sha>/<path>`). */
  blobUrls?: ReadonlyMap<string, string>
  /** The path globs of min-coverage with their totals. */
  paths?: readonly PathResult[]
}

export const fmtPercent = (p: number | undefined): string => (p === undefined ? 'n/a' : `${p.toFixed(2)}%`)

export function fmtDelta(d: number | undefined): string {
  if (d === undefined) return ''
  if (d === 0) return '±0.00'
  return `${d > 0 ? '+' : '−'}${Math.abs(d).toFixed(2)}`
}

/** The coverage report: verdict, totals, delta, failures, lint, and the per-file table. */
export function renderReport(r: ReportInput): string {
  const t = r.totals
  const failedTests = r.tests ? r.tests.failures + r.tests.errors : 0
  const failedLint = r.lint.filter(l => !l.passed)
  const ok = r.violations.length === 0 && failedTests === 0 && failedLint.length === 0
  const verdict = ok
    ? '✅ Tests passed and coverage meets the thresholds.'
    : `❌ ${[
        failedTests > 0 ? `${failedTests} test${failedTests === 1 ? '' : 's'} failed` : '',
        ...r.violations.map(v => v.message),
        failedLint.length > 0 ? `lint failed: ${failedLint.map(l => l.name).join(', ')}` : ''
      ]
        .filter(Boolean)
        .join('; ')}.`

  const deltaCell = (d: number | undefined) => (r.delta ? fmtDelta(d) || 'n/a' : '')
  const rows: (string | number)[][] = [
    ['Lines', fmtPercent(percent(t.lines)), `${t.lines.hit} / ${t.lines.found}`, deltaCell(r.delta?.lines)],
    ['Branches', fmtPercent(percent(t.branches)), `${t.branches.hit} / ${t.branches.found}`, deltaCell(r.delta?.branches)],
    ['Functions', fmtPercent(percent(t.functions)), `${t.functions.hit} / ${t.functions.found}`, '']
  ]
  if (r.patch) rows.push(['Changed lines', fmtPercent(percent(r.patch.lines)), `${r.patch.lines.hit} / ${r.patch.lines.found}`, ''])
  const headers = r.delta ? ['', 'Coverage', 'Covered', `Δ vs ${r.delta.baseSha.slice(0, 7)}`] : ['', 'Coverage', 'Covered']
  const totalsTable = md.table(
    headers,
    rows.map(row => row.slice(0, headers.length)),
    ['left', 'right', 'right', 'right']
  )

  const testsLine = r.tests
    ? `**Tests:** ${r.tests.tests} run, ${r.tests.passed} passed, ${r.tests.failures + r.tests.errors} failed, ${r.tests.skipped} skipped.`
    : '**Tests:** no test report was found.'
  const deltaLine = r.delta
    ? `Base ${r.delta.baseSha.slice(0, 7)}: lines ${fmtPercent(r.delta.base.lines)}, branches ${fmtPercent(r.delta.base.branches)}.`
    : r.deltaNote
      ? `_No delta: ${r.deltaNote}_`
      : undefined

  return md.join(
    md.heading(r.title, 2),
    verdict,
    totalsTable,
    [testsLine, deltaLine, r.patch ? undefined : r.patchNote ? `_No patch coverage: ${md.inline(r.patchNote)}_` : undefined]
      .filter(Boolean)
      .join(' '),
    renderFailures(r.tests, r.maxFailures ?? 20),
    r.patch ? renderPatch(r.patch, r.blobUrls, r.maxFiles) : undefined,
    r.paths && r.paths.length > 0 ? renderPaths(r.paths) : undefined,
    renderLint(r.lint),
    r.delta && r.delta.files.length > 0 ? renderDeltaFiles(r.delta, r.maxFiles) : undefined,
    renderFiles(r.files, r.maxFiles),
    r.runUrl ? `[Run details](${r.runUrl})` : undefined
  )
}

/** The changed lines no test ran, per file, each range linked to its lines. */
export function renderPatch(patch: PatchCoverage, blobUrls: ReadonlyMap<string, string> | undefined, max: number): string {
  const missed = patch.files.filter(f => f.uncovered.length > 0)
  const range = `${patch.base.slice(0, 7)}..${patch.head.slice(0, 7)}`
  const head =
    patch.lines.found === 0
      ? `**Changed lines:** none of the lines added in ${range} is coverable code.`
      : missed.length === 0
        ? `**Changed lines:** all ${patch.lines.found} coverable lines added in ${range} are covered.`
        : `**Changed lines:** ${patch.lines.found - patch.lines.hit} of ${patch.lines.found} coverable lines added in ${range} are not covered.`
  const link = (repoPath: string, [a, b]: [number, number]): string => {
    const text = a === b ? `${a}` : `${a}-${b}`
    const url = blobUrls?.get(repoPath)
    return url ? `[${text}](${url}#L${a}${a === b ? '' : `-L${b}`})` : text
  }
  const rows = missed.slice(0, max).map(f => {
    const ranges = lineRanges(f.uncovered)
    const shown = ranges.slice(0, 20).map(r => link(f.repoPath, r))
    return [
      `\`${f.repoPath}\``,
      `${f.lines.hit} / ${f.lines.found}`,
      ranges.length > 20 ? `${shown.join(', ')}, … (${ranges.length - 20} more ranges)` : shown.join(', ')
    ]
  })
  const more = missed.length > max ? `…and ${missed.length - max} more files.` : undefined
  const unlisted =
    patch.notInReports.length > 0
      ? `${patch.notInReports.length} changed file${patch.notInReports.length === 1 ? ' is' : 's are'} in no coverage report: ${patch.notInReports
          .slice(0, 10)
          .map(p => `\`${p}\``)
          .join(', ')}${patch.notInReports.length > 10 ? ', …' : ''}.`
      : undefined
  const totalsOnly =
    patch.withoutLineData.length > 0
      ? `${patch.withoutLineData.length} changed file${patch.withoutLineData.length === 1 ? ' has' : 's have'} totals only in the reports (no line data), so ${patch.withoutLineData.length === 1 ? 'it does' : 'they do'} not count.`
      : undefined
  // Table cells keep the links: they are escaped by md.table only for pipes and newlines.
  return md.join(
    md.heading('Changed lines without tests', 3),
    head,
    rows.length > 0 ? md.table(['File', 'Covered', 'Not covered (added lines)'], rows, ['left', 'right', 'left']) : undefined,
    more,
    [unlisted, totalsOnly].filter(Boolean).join(' ')
  )
}

function renderPaths(paths: readonly PathResult[]): string {
  const need = (p: PathResult) =>
    [p.threshold.line !== undefined ? `lines ${p.threshold.line}%` : '', p.threshold.branch !== undefined ? `branches ${p.threshold.branch}%` : '']
      .filter(Boolean)
      .join(', ')
  const rows = paths.map(p => [
    `\`${p.threshold.glob}\``,
    p.totals.files,
    fmtPercent(percent(p.totals.lines)),
    fmtPercent(percent(p.totals.branches)),
    need(p),
    p.violations.length === 0 ? '✅' : '❌'
  ])
  return md.join(
    md.heading('Coverage by path', 3),
    md.table(['Path', 'Files', 'Lines', 'Branches', 'Minimum', ''], rows, ['left', 'right', 'right', 'right', 'left', 'center'])
  )
}

function renderFailures(tests: TestResults | undefined, max: number): string | undefined {
  if (!tests || tests.failed.length === 0) return undefined
  const items = tests.failed.slice(0, max).map(f => {
    const where = f.file ? ` (${f.file}${f.line ? `:${f.line}` : ''})` : ''
    const title = `${f.suite ? `${f.suite} › ` : ''}${f.name}${where}`
    return md.details(title, md.codeBlock(clip(f.details || f.message, 3000)))
  })
  const more = tests.failed.length > max ? `…and ${tests.failed.length - max} more failures.` : undefined
  return md.join(md.heading('Failed tests', 3), ...items, more)
}

function renderLint(lint: readonly LintResult[]): string | undefined {
  if (lint.length === 0) return undefined
  const table = md.table(
    ['Linter', 'Command', 'Result'],
    lint.map(l => [l.name, `\`${l.command}\``, l.passed ? '✅ passed' : '❌ failed'])
  )
  const failures = lint.filter(l => !l.passed && l.output.trim() !== '').map(l => md.details(`${l.name} output`, md.codeBlock(clip(l.output, 4000))))
  return md.join(md.heading('Lint', 3), table, ...failures)
}

function renderDeltaFiles(delta: CoverageDelta, max: number): string {
  const rows = delta.files
    .slice(0, max)
    .map(f => [`\`${f.path}\``, fmtPercent(f.base), f.current === undefined ? 'removed' : fmtPercent(f.current), fmtDelta(f.delta)])
  const more = delta.files.length > max ? `…and ${delta.files.length - max} more files.` : undefined
  return md.details(
    `Changed coverage in ${delta.files.length} file${delta.files.length === 1 ? '' : 's'}`,
    md.join(md.table(['File', 'Base', 'Now', 'Δ'], rows, ['left', 'right', 'right', 'right']), more)
  )
}

/** Per-file table, worst line coverage first (then most missed lines), collapsible. */
export function renderFiles(files: readonly FileCoverage[], max: number): string | undefined {
  if (files.length === 0) return undefined
  const sorted = worstFirst(files)
  const rows = sorted
    .slice(0, max)
    .map(f => [
      `\`${f.path}\``,
      fmtPercent(percent(f.lines)),
      `${f.lines.hit} / ${f.lines.found}`,
      fmtPercent(percent(f.branches)),
      uncoveredRanges(f)
    ])
  const more = files.length > max ? `…and ${files.length - max} more files.` : undefined
  return md.details(
    `Coverage of ${files.length} file${files.length === 1 ? '' : 's'} (worst first)`,
    md.join(md.table(['File', 'Lines', 'Covered', 'Branches', 'Uncovered lines'], rows, ['left', 'right', 'right', 'right', 'left']), more)
  )
}

export function worstFirst(files: readonly FileCoverage[]): FileCoverage[] {
  const ratio = (f: FileCoverage) => (f.lines.found === 0 ? 2 : f.lines.hit / f.lines.found)
  return [...files].sort(
    (a, b) =>
      ratio(a) - ratio(b) ||
      b.lines.found - b.lines.hit - (a.lines.found - a.lines.hit) ||
      a.path.localeCompare(b.path)
  )
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text
}

/** The hidden marker that finds this job's sticky comment again. */
export function commentMarker(workflow: string, job: string, id = ''): string {
  const key = [workflow, job, id].filter(Boolean).join('/').replace(/--/g, '-')
  return `<!-- otlp-deploy-actions/test-coverage:${key} -->`
}

/** GitHub refuses comment bodies over 65536 characters; keep well below. */
export const COMMENT_LIMIT = 60_000

export function renderComment(marker: string, report: ReportInput): string {
  return `${marker}\n${fitReport(report, COMMENT_LIMIT - marker.length - 1)}`
}

/** The report within `room` characters: fewer file rows and failures first, then only the verdict and totals. */
export function fitReport(report: ReportInput, room: number): string {
  for (const maxFiles of [report.maxFiles, 25, 10, 0]) {
    const body = renderReport({ ...report, maxFiles, maxFailures: maxFiles === 0 ? 3 : 10 })
    if (body.length <= room) return body
  }
  return renderReport({
    ...report,
    files: [],
    maxFiles: 0,
    tests: report.tests && { ...report.tests, failed: [] },
    ...(report.patch ? { patch: { ...report.patch, files: [] } } : {})
  }).slice(0, room)
}
