/**
 * One model for every coverage and test report format. Parsers produce it; thresholds, deltas and
 * markdown read it. Counters are always present; per-line and per-branch hits only where the
 * format has them (istanbul's json-summary carries totals only).
 */
import { formatRanges } from './diff.js'

export interface Counter {
  hit: number
  found: number
}

export interface FileCoverage {
  /** As the report names it; `normalisePaths` makes it relative to the workspace. */
  path: string
  lines: Counter
  branches: Counter
  functions: Counter
  /** Line number to hit count, where the format lists lines. */
  lineHits?: Map<number, number>
  /** `line:block:branch` to hit count, where the format lists branches. */
  branchHits?: Map<string, number>
}

export type CoverageFormat =
  | 'lcov'
  | 'cobertura'
  | 'jacoco'
  | 'go-cover'
  | 'tarpaulin-json'
  | 'istanbul-summary'
  | 'stored'

export interface CoverageReport {
  format: CoverageFormat
  /** The file it was read from, for messages. */
  source: string
  files: FileCoverage[]
}

export interface CoverageTotals {
  lines: Counter
  branches: Counter
  functions: Counter
  files: number
}

export interface TestFailure {
  suite: string
  name: string
  message: string
  /** The failure's text (assertion, stack or panic), trimmed. */
  details: string
  /** Where the failure happened, when the report says (attributes, stack frame or panic location). */
  file?: string
  line?: number
}

export interface TestResults {
  tests: number
  passed: number
  failures: number
  errors: number
  skipped: number
  durationMs: number
  failed: TestFailure[]
}

export const emptyCounter = (): Counter => ({ hit: 0, found: 0 })

export function emptyTests(): TestResults {
  return { tests: 0, passed: 0, failures: 0, errors: 0, skipped: 0, durationMs: 0, failed: [] }
}

/** A percentage with two decimals, or undefined when nothing is coverable (never a silent 0). */
export function percent(counter: Counter): number | undefined {
  if (counter.found === 0) return undefined
  return Math.floor((counter.hit / counter.found) * 10_000) / 100
}

export function totals(files: readonly FileCoverage[]): CoverageTotals {
  const sum = (pick: (f: FileCoverage) => Counter): Counter =>
    files.reduce((acc, f) => ({ hit: acc.hit + pick(f).hit, found: acc.found + pick(f).found }), emptyCounter())
  return { lines: sum(f => f.lines), branches: sum(f => f.branches), functions: sum(f => f.functions), files: files.length }
}

/** The files that have something to measure: tarpaulin JSON (and some Cobertura writers) also list files without one coverable line. */
export function withCoverableCode(files: readonly FileCoverage[]): FileCoverage[] {
  return files.filter(f => f.lines.found + f.branches.found + f.functions.found > 0)
}

/** Recomputes a file's line and branch counters from its hit maps. */
export function countersFromHits(file: FileCoverage): FileCoverage {
  const out = { ...file }
  if (file.lineHits) out.lines = countHits(file.lineHits.values())
  if (file.branchHits) out.branches = countHits(file.branchHits.values())
  return out
}

function countHits(hits: Iterable<number>): Counter {
  const c = emptyCounter()
  for (const h of hits) {
    c.found++
    if (h > 0) c.hit++
  }
  return c
}

/**
 * Merges reports (several crates, several test runs) into one file list. A file seen twice has its
 * line and branch hits united (a line is covered when any run covered it); when either side has
 * only totals, the side with more coverable lines wins, since adding them would double count.
 */
export function mergeFiles(reports: readonly CoverageReport[]): FileCoverage[] {
  const byPath = new Map<string, FileCoverage>()
  for (const report of reports) {
    for (const file of report.files) {
      const seen = byPath.get(file.path)
      byPath.set(file.path, seen ? mergeFile(seen, file) : file)
    }
  }
  return [...byPath.values()]
}

function mergeFile(a: FileCoverage, b: FileCoverage): FileCoverage {
  if (!a.lineHits || !b.lineHits) return b.lines.found > a.lines.found ? b : a
  const lineHits = unionMax(a.lineHits, b.lineHits)
  const branchHits = a.branchHits && b.branchHits ? unionMax(a.branchHits, b.branchHits) : undefined
  const functions = a.functions.found >= b.functions.found ? a.functions : b.functions
  const merged: FileCoverage = { path: a.path, lines: a.lines, branches: a.branches, functions, lineHits }
  if (branchHits) merged.branchHits = branchHits
  else merged.branches = a.branches.found >= b.branches.found ? a.branches : b.branches
  return countersFromHits(merged)
}

function unionMax<K>(a: Map<K, number>, b: Map<K, number>): Map<K, number> {
  const out = new Map(a)
  for (const [k, v] of b) out.set(k, Math.max(out.get(k) ?? 0, v))
  return out
}

/** Adds test results from several reports. */
export function mergeTests(results: readonly TestResults[]): TestResults {
  const out = emptyTests()
  for (const r of results) {
    out.tests += r.tests
    out.passed += r.passed
    out.failures += r.failures
    out.errors += r.errors
    out.skipped += r.skipped
    out.durationMs += r.durationMs
    out.failed.push(...r.failed)
  }
  return out
}

/** Uncovered line numbers, for the per-file table, as compact ranges: `3-5, 9`. */
export function uncoveredRanges(file: FileCoverage, limit = 12): string {
  if (!file.lineHits) return ''
  return formatRanges(
    [...file.lineHits].filter(([, h]) => h === 0).map(([l]) => l),
    limit
  )
}
