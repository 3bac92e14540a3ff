import { ReportError, lineOf } from '../errors.js'
import { countersFromHits, emptyCounter, type CoverageReport, type FileCoverage } from '../model.js'
import { attr, child, children, parseXml, type XmlNode } from './xml.js'

/**
 * Cobertura XML (tarpaulin --out Xml, coverage.py, cargo-llvm-cov --cobertura, istanbul's
 * cobertura reporter). Lines and branches come from each class's <line> elements; a file split over
 * several classes is merged. A `<source>` element makes relative file names absolute.
 */
export function parseCobertura(text: string, source: string): CoverageReport {
  const doc = parseXml(text, source, ['source', 'package', 'class', 'line', 'method'])
  const root = child(doc, 'coverage')
  if (!root) throw new ReportError(source, undefined, 'has no <coverage> root element: not a Cobertura report')
  const sources = children(child(root, 'sources'), 'source')
    .map(s => String(s['#text'] ?? '').trim())
    .filter(s => s !== '')
  const byPath = new Map<string, FileCoverage>()
  for (const pkg of children(child(root, 'packages'), 'package')) {
    for (const cls of children(child(pkg, 'classes'), 'class')) {
      const filename = attr(cls, 'filename')
      if (!filename) throw new ReportError(source, lineOf(text, '<class'), '<class> without a filename attribute')
      const path = resolveSource(sources, filename)
      const file = byPath.get(path) ?? newFile(path)
      readClass(cls, file, text, source)
      byPath.set(path, file)
    }
  }
  return { format: 'cobertura', source, files: [...byPath.values()].map(countersFromHits) }
}

function newFile(path: string): FileCoverage {
  return {
    path,
    lines: emptyCounter(),
    branches: emptyCounter(),
    functions: emptyCounter(),
    lineHits: new Map(),
    branchHits: new Map()
  }
}

function readClass(cls: XmlNode, file: FileCoverage, text: string, source: string): void {
  for (const line of children(child(cls, 'lines'), 'line')) {
    const number = attr(line, 'number') ?? ''
    const hits = attr(line, 'hits') ?? ''
    if (!/^\d+$/.test(number) || !/^\d+(\.\d+)?$/.test(hits)) {
      const where = lineOf(text, `number="${number}"`) ?? lineOf(text, `hits="${hits}"`)
      throw new ReportError(source, where, `<line number="${number}" hits="${hits}">: number and hits must be counts`)
    }
    const n = Number(number)
    file.lineHits!.set(n, Math.max(file.lineHits!.get(n) ?? 0, Number(hits)))
    // coverlet (.NET) writes branch="True".
    if (attr(line, 'branch')?.toLowerCase() === 'true') {
      const cc = attr(line, 'condition-coverage')
      const m = cc ? /\((\d+)\/(\d+)\)/.exec(cc) : null
      if (cc && !m) {
        throw new ReportError(source, lineOf(text, cc), `condition-coverage="${cc}" is not "P% (covered/total)"`)
      }
      const covered = m ? Number(m[1]) : 0
      const total = m ? Number(m[2]) : 0
      // Branches are only counted per line in Cobertura: number them so that merges line up.
      for (let i = 0; i < total; i++) {
        const id = `${n}:0:${i}`
        file.branchHits!.set(id, Math.max(file.branchHits!.get(id) ?? 0, i < covered ? 1 : 0))
      }
    }
  }
  const methods = children(child(cls, 'methods'), 'method')
  for (const method of methods) {
    file.functions.found++
    const lines = children(child(method, 'lines'), 'line')
    if (lines.some(l => Number(attr(l, 'hits') ?? 0) > 0)) file.functions.hit++
  }
}

function resolveSource(sources: readonly string[], filename: string): string {
  if (filename.startsWith('/') || sources.length === 0) return filename
  const base = sources[0]!.replace(/\/+$/, '')
  return base === '' || base === '.' ? filename : `${base}/${filename}`
}
