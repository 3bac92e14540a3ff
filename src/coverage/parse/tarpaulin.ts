import { ReportError, lineOf } from '../errors.js'
import { countersFromHits, emptyCounter, type CoverageReport, type FileCoverage } from '../model.js'

/**
 * tarpaulin's JSON report (`--out Json`): `files[]` with `path` as an array of components and
 * `traces[]` of `{ line, stats: { Line: hits } }`. Traces of other kinds (branch, condition) count
 * as branches.
 */
export function parseTarpaulinJson(doc: unknown, text: string, source: string): CoverageReport {
  const files = (doc as { files?: unknown }).files
  if (!Array.isArray(files)) throw new ReportError(source, undefined, 'has no "files" array: not a tarpaulin JSON report')
  const out: FileCoverage[] = []
  files.forEach((raw, index) => {
    const where = (msg: string): never => {
      throw new ReportError(source, lineOf(text, '"traces"', nthIndex(text, '"path"', index)), `files[${index}]: ${msg}`)
    }
    const f = raw as { path?: unknown; traces?: unknown }
    const path = Array.isArray(f.path) ? joinPath(f.path) : typeof f.path === 'string' ? f.path : where('"path" is missing')
    if (!Array.isArray(f.traces)) where(`"traces" is missing for ${path}`)
    const file: FileCoverage = {
      path,
      lines: emptyCounter(),
      branches: emptyCounter(),
      functions: emptyCounter(),
      lineHits: new Map(),
      branchHits: new Map()
    }
    ;(f.traces as unknown[]).forEach((t, ti) => {
      const trace = t as { line?: unknown; stats?: Record<string, unknown> }
      if (typeof trace.line !== 'number' || !trace.stats || typeof trace.stats !== 'object') {
        where(`traces[${ti}] of ${path} has no numeric "line" and "stats"`)
      }
      const line = trace.line as number
      for (const [kind, value] of Object.entries(trace.stats!)) {
        if (kind === 'Line') {
          if (typeof value !== 'number') where(`traces[${ti}] of ${path}: stats.Line is not a number`)
          file.lineHits!.set(line, Math.max(file.lineHits!.get(line) ?? 0, value as number))
        } else {
          file.branchHits!.set(`${line}:${kind}:${ti}`, typeof value === 'number' ? value : value ? 1 : 0)
        }
      }
    })
    if (file.branchHits!.size === 0) delete file.branchHits
    out.push(countersFromHits(file))
  })
  return { format: 'tarpaulin-json', source, files: out }
}

function joinPath(parts: unknown[]): string {
  const strings = parts.map(String)
  if (strings[0] === '/') return `/${strings.slice(1).join('/')}`
  return strings.join('/')
}

function nthIndex(text: string, needle: string, n: number): number {
  let at = -1
  for (let i = 0; i <= n; i++) {
    at = text.indexOf(needle, at + 1)
    if (at === -1) return 0
  }
  return at
}
