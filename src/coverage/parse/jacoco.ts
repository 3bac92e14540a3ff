import { ReportError } from '../errors.js'
import { countersFromHits, emptyCounter, type CoverageReport, type FileCoverage } from '../model.js'
import { attr, child, children, parseXml, type XmlNode } from './xml.js'

/**
 * JaCoCo's XML report (Maven's jacoco:report, Gradle's jacocoTestReport): per `<sourcefile>` of a
 * `<package>`, its `<line nr mi ci mb cb>` elements. JaCoCo counts instructions, not executions: a
 * line is covered when one of its instructions ran (hit count 1), its branches are `mb + cb` of
 * which `cb` were taken. Methods come from the `METHOD` counters of the classes compiled from the
 * file. Paths are the package's path and the file name (`com/acme/Calc.java`); nested `<group>`s
 * (multi-module reports) are read too.
 */
export function parseJacoco(text: string, source: string): CoverageReport {
  const doc = parseXml(text, source, ['group', 'package', 'class', 'sourcefile', 'line', 'counter', 'method'])
  const root = child(doc, 'report')
  if (!root) throw new ReportError(source, undefined, 'has no <report> root element: not a JaCoCo report')
  const files: FileCoverage[] = []
  const walk = (node: XmlNode) => {
    for (const g of children(node, 'group')) walk(g)
    for (const pkg of children(node, 'package')) readPackage(pkg, files, source)
  }
  walk(root)
  return { format: 'jacoco', source, files: files.map(countersFromHits) }
}

function readPackage(pkg: XmlNode, files: FileCoverage[], source: string): void {
  const dir = (attr(pkg, 'name') ?? '').replace(/\/+$/, '')
  for (const sf of children(pkg, 'sourcefile')) {
    const name = attr(sf, 'name')
    if (!name) throw new ReportError(source, undefined, `<sourcefile> without a name in package ${dir || '(default)'}`)
    const file: FileCoverage = {
      path: dir ? `${dir}/${name}` : name,
      lines: emptyCounter(),
      branches: emptyCounter(),
      functions: emptyCounter(),
      lineHits: new Map(),
      branchHits: new Map()
    }
    for (const line of children(sf, 'line')) {
      const [nr, ci, mb, cb] = ['nr', 'ci', 'mb', 'cb'].map(a => Number(attr(line, a) ?? 0))
      if (!Number.isInteger(nr) || nr! < 1 || [ci, mb, cb].some(v => !Number.isInteger(v) || v! < 0))
        throw new ReportError(source, undefined, `${file.path}: <line nr="${attr(line, 'nr')}"> has attributes that are not counts`)
      file.lineHits!.set(nr!, ci! > 0 ? 1 : 0)
      for (let i = 0; i < mb! + cb!; i++) file.branchHits!.set(`${nr}:0:${i}`, i < cb! ? 1 : 0)
    }
    for (const cls of children(pkg, 'class')) {
      if (attr(cls, 'sourcefilename') !== name) continue
      const methods = children(cls, 'counter').find(c => attr(c, 'type') === 'METHOD')
      if (!methods) continue
      const covered = Number(attr(methods, 'covered') ?? 0)
      file.functions.hit += covered
      file.functions.found += covered + Number(attr(methods, 'missed') ?? 0)
    }
    if (file.branchHits!.size === 0) delete file.branchHits
    files.push(file)
  }
}
