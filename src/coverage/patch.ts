/**
 * Patch coverage (pure): of the lines a change adds, how many a test ran. Only added lines that the
 * reports list as coverable count; a comment or a blank line is neither covered nor missed.
 */
import { emptyCounter, percent, type Counter, type FileCoverage } from './model.js'

export interface PatchFile {
  /** As the coverage report names it (relative to the workspace). */
  path: string
  /** As git names it (relative to the repository root): annotations and links use it. */
  repoPath: string
  added: number
  lines: Counter
  /** Added lines the reports list as coverable and no test ran, ascending. */
  uncovered: number[]
}

export interface PatchCoverage {
  base: string
  head: string
  lines: Counter
  /** Changed files with coverable added lines, worst first. */
  files: PatchFile[]
  /** Changed files that no report names (documentation, say, or code no test loads). */
  notInReports: string[]
  /** Changed files whose report has totals only (istanbul's json-summary): their lines cannot count. */
  withoutLineData: string[]
}

/** A changed file as the workspace names it, and as git does. */
export interface ChangedFile {
  path: string
  repoPath: string
  added: number[]
}

export function patchCoverage(
  files: readonly FileCoverage[],
  changed: readonly ChangedFile[],
  range: { base: string; head: string }
): PatchCoverage {
  const match = matchReportPaths(
    files.map(f => f.path),
    changed.map(c => c.path)
  )
  const byPath = new Map(files.map(f => [f.path, f]))
  const out: PatchCoverage = { ...range, lines: emptyCounter(), files: [], notInReports: [], withoutLineData: [] }
  for (const c of changed) {
    const reportPath = match.get(c.path)
    const file = reportPath === undefined ? undefined : byPath.get(reportPath)
    if (!file) {
      out.notInReports.push(c.repoPath)
      continue
    }
    if (!file.lineHits) {
      out.withoutLineData.push(c.repoPath)
      continue
    }
    const lines = emptyCounter()
    const uncovered: number[] = []
    for (const l of c.added) {
      const hits = file.lineHits.get(l)
      if (hits === undefined) continue
      lines.found++
      if (hits > 0) lines.hit++
      else uncovered.push(l)
    }
    if (lines.found === 0) continue
    out.lines.found += lines.found
    out.lines.hit += lines.hit
    out.files.push({ path: c.path, repoPath: c.repoPath, added: c.added.length, lines, uncovered: uncovered.sort((a, b) => a - b) })
  }
  out.files.sort(
    (a, b) => b.uncovered.length - a.uncovered.length || (percent(a.lines) ?? 100) - (percent(b.lines) ?? 100) || a.path.localeCompare(b.path)
  )
  return out
}

/**
 * Which report path each changed path is. Equal paths first; otherwise the report path that is the
 * longest suffix of the changed one at a `/` (JaCoCo's `com/acme/Calc.java` for
 * `app/src/main/java/com/acme/Calc.java`), or that ends with it (Go's module path
 * `example.com/app/pkg/x.go` for `pkg/x.go`, an absolute path). A suffix two report paths share
 * equally is ambiguous and matches neither.
 */
export function matchReportPaths(reportPaths: readonly string[], changedPaths: readonly string[]): Map<string, string> {
  const exact = new Set(reportPaths)
  // Report paths by base name, so that a 5,000-file report is not scanned once per changed file.
  const byName = new Map<string, string[]>()
  for (const p of reportPaths) {
    const name = p.slice(p.lastIndexOf('/') + 1)
    const list = byName.get(name)
    if (list) list.push(p)
    else byName.set(name, [p])
  }
  const out = new Map<string, string>()
  for (const changed of changedPaths) {
    if (exact.has(changed)) {
      out.set(changed, changed)
      continue
    }
    const candidates = byName.get(changed.slice(changed.lastIndexOf('/') + 1)) ?? []
    let best: string | undefined
    let bestLength = 0
    let tie = false
    for (const candidate of candidates) {
      const length = sharedSuffix(candidate, changed)
      if (length === 0) continue
      if (length > bestLength) {
        best = candidate
        bestLength = length
        tie = false
      } else if (length === bestLength) tie = true
    }
    if (best !== undefined && !tie) out.set(changed, best)
  }
  return out
}

/** Segments two paths share at their ends, when one path's segments all are part of it. */
function sharedSuffix(a: string, b: string): number {
  const x = a.split('/').filter(Boolean)
  const y = b.split('/').filter(Boolean)
  let n = 0
  while (n < x.length && n < y.length && x[x.length - 1 - n] === y[y.length - 1 - n]) n++
  return n === x.length || n === y.length ? n : 0
}
