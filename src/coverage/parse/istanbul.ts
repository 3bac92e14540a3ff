import { ReportError, lineOf } from '../errors.js'
import type { Counter, CoverageReport, FileCoverage } from '../model.js'

/**
 * istanbul's json-summary (`coverage/coverage-summary.json` from jest, nyc, c8, vitest): per-file
 * totals for lines, branches, functions and statements; no line detail. The `total` entry is not
 * a file and is recomputed from the files instead.
 */
export function parseIstanbulSummary(doc: unknown, text: string, source: string): CoverageReport {
  const files: FileCoverage[] = []
  for (const [path, entry] of Object.entries(doc as Record<string, unknown>)) {
    if (path === 'total') continue
    const counter = (metric: string): Counter => {
      const m = (entry as Record<string, unknown> | null)?.[metric] as { total?: unknown; covered?: unknown } | undefined
      if (!m || typeof m.total !== 'number' || typeof m.covered !== 'number' || m.covered > m.total || m.covered < 0) {
        throw new ReportError(
          source,
          lineOf(text, JSON.stringify(path)),
          `${path}: "${metric}" needs numeric "total" and "covered" (covered <= total)`
        )
      }
      return { hit: m.covered, found: m.total }
    }
    files.push({ path, lines: counter('lines'), branches: counter('branches'), functions: counter('functions') })
  }
  return { format: 'istanbul-summary', source, files }
}
