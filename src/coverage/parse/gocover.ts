import { ReportError } from '../errors.js'
import { countersFromHits, emptyCounter, type CoverageReport, type FileCoverage } from '../model.js'

/**
 * Go's cover profile (`go test -coverprofile`): a `mode:` line, then one line per block,
 * `file.go:startLine.startCol,endLine.endCol statements count`. A line is covered when a block
 * over it ran; profiles merged by concatenation (several `mode:` lines, a block listed by more than
 * one package's run) are combined the same way. Paths are import paths
 * (`github.com/acme/app/pkg/x.go`); the usual path mapping makes them workspace-relative.
 */
export function parseGoCover(text: string, source: string): CoverageReport {
  const byPath = new Map<string, FileCoverage>()
  const lines = text.split('\n')
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').trim()
    if (line === '' || line.startsWith('mode:')) {
      if (line.startsWith('mode:') && !/^mode: (set|count|atomic)$/.test(line))
        throw new ReportError(source, i + 1, `${JSON.stringify(line)}: the mode is set, count or atomic`)
      return
    }
    const m = /^(.+):(\d+)\.(\d+),(\d+)\.(\d+) (\d+) (\d+)$/.exec(line)
    if (!m) throw new ReportError(source, i + 1, `${JSON.stringify(line.slice(0, 80))} is not "file:line.col,line.col statements count"`)
    const [, path, start, , end, , , count] = m
    const from = Number(start)
    const to = Number(end)
    if (to < from) throw new ReportError(source, i + 1, `the block ends (line ${to}) before it starts (line ${from})`)
    const file = byPath.get(path!) ?? newFile(path!)
    byPath.set(path!, file)
    for (let n = from; n <= to; n++) file.lineHits!.set(n, Math.max(file.lineHits!.get(n) ?? 0, Number(count)))
  })
  if (!/^\s*mode: /.test(text)) throw new ReportError(source, 1, 'has no "mode:" line: not a Go cover profile')
  return { format: 'go-cover', source, files: [...byPath.values()].map(countersFromHits) }
}

function newFile(path: string): FileCoverage {
  return { path, lines: emptyCounter(), branches: emptyCounter(), functions: emptyCounter(), lineHits: new Map() }
}
