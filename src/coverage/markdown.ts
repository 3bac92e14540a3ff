import { md } from '../runtime/index.js'
import type { CoverageDelta } from './delta.js'
import { percent, uncoveredRanges, type CoverageTotals, type FileCoverage, type TestResults } from './model.js'
import type { Violation } from './thresholds.js'

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
    [testsLine, deltaLine].filter(Boolean).join(' '),
    renderFailures(r.tests, r.maxFailures ?? 20),
    renderLint(r.lint),
    r.delta && r.delta.files.length > 0 ? renderDeltaFiles(r.delta, r.maxFiles) : undefined,
    renderFiles(r.files, r.maxFiles),
    r.runUrl ? `[Run details](${r.runUrl})` : undefined
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
  for (const maxFiles of [report.maxFiles, 25, 10, 0]) {
    const body = `${marker}\n${renderReport({ ...report, maxFiles, maxFailures: maxFiles === 0 ? 3 : 10 })}`
    if (body.length <= COMMENT_LIMIT) return body
  }
  return `${marker}\n${renderReport({ ...report, files: [], maxFiles: 0, tests: report.tests && { ...report.tests, failed: [] } }).slice(0, COMMENT_LIMIT - marker.length - 1)}`
}
