import { ReportError } from './errors.js'
import { totals, type CoverageReport, type FileCoverage } from './model.js'

/**
 * The report this action stores per commit (cache entry or file keyed by SHA) so that a later run
 * can compute a delta against it without re-running the base commit's tests. Counters only: a
 * delta needs no line detail, and the file stays small.
 */
export const STORED_SCHEMA = 'otlp-deploy-actions/coverage@1'

export interface StoredReport {
  schema: typeof STORED_SCHEMA
  sha: string
  createdAt: string
  totals: ReturnType<typeof totals>
  files: { path: string; lines: [number, number]; branches: [number, number]; functions: [number, number] }[]
}

export function toStoredReport(files: readonly FileCoverage[], sha: string, now: Date): StoredReport {
  return {
    schema: STORED_SCHEMA,
    sha,
    createdAt: now.toISOString(),
    totals: totals(files),
    files: files.map(f => ({
      path: f.path,
      lines: [f.lines.hit, f.lines.found],
      branches: [f.branches.hit, f.branches.found],
      functions: [f.functions.hit, f.functions.found]
    }))
  }
}

export function parseStoredReport(doc: Record<string, unknown>, source: string): CoverageReport & { sha: string } {
  const files = doc.files
  if (!Array.isArray(files)) throw new ReportError(source, undefined, 'stored coverage report has no "files" array')
  const pair = (v: unknown, what: string, path: string): { hit: number; found: number } => {
    if (!Array.isArray(v) || v.length !== 2 || !v.every(n => typeof n === 'number' && n >= 0) || v[0] > v[1]) {
      throw new ReportError(source, undefined, `stored coverage report: ${path}: "${what}" is not [hit, found]`)
    }
    return { hit: v[0] as number, found: v[1] as number }
  }
  return {
    format: 'stored',
    source,
    sha: typeof doc.sha === 'string' ? doc.sha : '',
    files: files.map((f: { path?: unknown; lines?: unknown; branches?: unknown; functions?: unknown }, i) => {
      const path = typeof f.path === 'string' ? f.path : `files[${i}]`
      return {
        path,
        lines: pair(f.lines, 'lines', path),
        branches: pair(f.branches, 'branches', path),
        functions: pair(f.functions, 'functions', path)
      }
    })
  }
}
