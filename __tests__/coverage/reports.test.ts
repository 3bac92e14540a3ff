// The same run written in several formats must give the same numbers once parsed: the strongest
// check that each parser reads its format right, on reports the tools really produced here.
import { parseCoverage } from '../../src/coverage/detect.js'
import { totals, withCoverableCode } from '../../src/coverage/model.js'
import { parseJunit } from '../../src/coverage/parse/junit.js'
import { report } from './fixtures.js'

const read = (path: string) => {
  const { text, source } = report(path)
  return parseCoverage(text, source)
}

describe('jest on this repository: lcov and json-summary of one run', () => {
  const lcov = read('jest/lcov.info')
  const summary = read('jest/coverage-summary.json')

  it('are recognised by content', () => {
    expect([lcov.format, summary.format]).toEqual(['lcov', 'istanbul-summary'])
  })

  it('agree on line, branch and function totals', () => {
    const doc = JSON.parse(report('jest/coverage-summary.json').text) as Record<string, Record<string, { total: number; covered: number }>>
    const t = totals(summary.files)
    expect(t.lines).toEqual({ hit: doc.total!.lines!.covered, found: doc.total!.lines!.total })
    expect(t.branches).toEqual({ hit: doc.total!.branches!.covered, found: doc.total!.branches!.total })
    expect(totals(lcov.files).lines).toEqual(t.lines)
    expect(totals(lcov.files).branches).toEqual(t.branches)
    expect(totals(lcov.files).functions).toEqual(t.functions)
  })

  it('list the same files', () => {
    const rel = (p: string) => p.replace(/^\/work\/main\//, '')
    expect(summary.files.map(f => rel(f.path)).sort()).toEqual(lcov.files.map(f => f.path).sort())
  })
})

describe('tarpaulin on the sample crate: lcov, Cobertura and JSON of one run', () => {
  const lcov = read('sample-crate/lcov.info')
  const cobertura = read('sample-crate/cobertura.xml')
  const json = read('sample-crate/tarpaulin-report.json')

  it('are recognised by content', () => {
    expect([lcov.format, cobertura.format, json.format]).toEqual(['lcov', 'cobertura', 'tarpaulin-json'])
  })

  it('agree with each other and with the totals tarpaulin printed (11 of 16 lines)', () => {
    for (const r of [lcov, cobertura, json]) {
      expect({ format: r.format, lines: totals(r.files).lines }).toEqual({ format: r.format, lines: { hit: 11, found: 16 } })
    }
    const path = '/work/main/__tests__/fixtures/coverage/sample-crate/src/lib.rs'
    expect(lcov.files.map(f => f.path)).toEqual([path])
    expect(cobertura.files.map(f => f.path)).toEqual([path])
    expect(json.files.map(f => f.path)).toEqual([path])
  })

  it('agree line by line', () => {
    const hits = (r: typeof lcov) => [...r.files[0]!.lineHits!].sort((a, b) => a[0] - b[0])
    expect(hits(cobertura)).toEqual(hits(lcov))
    expect(hits(json)).toEqual(hits(lcov))
    // describe() is never called by the tests: its lines are the uncovered ones.
    expect(hits(lcov).filter(([, h]) => h === 0).map(([l]) => l)).toEqual([32, 33, 34, 35, 36])
  })

  it('a run with a failing test still writes a report, with less covered', () => {
    const failing = read('sample-crate/failing/lcov.info')
    expect(totals(failing.files).lines).toEqual({ hit: 10, found: 16 })
  })
})

describe('tarpaulin on otlp-client (the relay crate): lcov, Cobertura and JSON of one run', () => {
  const lcov = read('otlp-client/lcov.info')
  const cobertura = read('otlp-client/cobertura.xml')
  const json = read('otlp-client/tarpaulin-report.json')
  const attrs = /<coverage lines-covered="(\d+)" lines-valid="(\d+)"/.exec(report('otlp-client/cobertura.xml').text)!

  it('agree with the totals tarpaulin wrote in the Cobertura root', () => {
    const expected = { hit: Number(attrs[1]), found: Number(attrs[2]) }
    expect(expected.found).toBeGreaterThan(500)
    for (const r of [lcov, cobertura, json]) {
      expect({ format: r.format, lines: totals(r.files).lines }).toEqual({ format: r.format, lines: expected })
    }
  })

  it('agree file by file and line by line (tarpaulin JSON also lists files without coverable lines)', () => {
    expect(json.files.length).toBeGreaterThan(withCoverableCode(json.files).length)
    const byPath = (r: typeof lcov) =>
      Object.fromEntries(
        withCoverableCode(r.files).map(f => [f.path, [...f.lineHits!].sort((a, b) => a[0] - b[0])])
      )
    const fromLcov = byPath(lcov)
    expect(Object.keys(fromLcov).length).toBeGreaterThan(5)
    expect(Object.keys(fromLcov).every(p => p.startsWith('/work/main/otlp-client/src/'))).toBe(true)
    expect(byPath(cobertura)).toEqual(fromLcov)
    expect(byPath(json)).toEqual(fromLcov)
  })
})

// Reports the tools wrote here (generate.sh lcov, grcov, jacoco, go), each checked against the
// totals the tool itself printed.
describe('lcov of gcc --coverage, two runs combined by lcov -a (one record per run and file)', () => {
  const summary = report('lcov/summary.txt').text
  const counts = (what: string) => {
    const m = new RegExp(`${what}\\.+: [\\d.]+% \\((\\d+) of (\\d+) ${what}\\)`).exec(summary)!
    return { hit: Number(m[1]), found: Number(m[2]) }
  }

  it("totals equal lcov --summary's for its combined file and for the two runs' files read together", () => {
    const combined = read('lcov/combined.info')
    const both = parseCoverage(`${report('lcov/a.info').text}${report('lcov/b.info').text}`, 'a.info+b.info')
    for (const r of [combined, both]) {
      const t = totals(r.files)
      expect({ lines: t.lines, functions: t.functions, branches: t.branches, files: t.files }).toEqual({
        lines: counts('lines'),
        functions: counts('functions'),
        branches: counts('branches'),
        files: 2
      })
    }
    expect(counts('lines')).toEqual({ hit: 17, found: 22 })
  })

  it('a line is covered when either run covered it; factorial, which neither ran, is the gap', () => {
    const calc = read('lcov/combined.info').files.find(f => f.path.endsWith('/calc.c'))!
    const missed = [...calc.lineHits!].filter(([, h]) => h === 0).map(([l]) => l)
    expect(missed).toEqual([24, 25, 26, 27, 29])
  })
})

describe('Go cover profile of go test -coverprofile', () => {
  const profile = read('go/cover.out')
  const func = report('go/cover-func.txt')
    .text.trim()
    .split('\n')
    .filter(l => !l.startsWith('total:'))
    .map(l => {
      const [where, name, pct] = l.split(/\s+/)
      return { line: Number(where!.split(':')[1]), name: name!, pct: Number(pct!.replace('%', '')) }
    })

  it('is recognised, with its import path', () => {
    expect(profile.format).toBe('go-cover')
    expect(profile.files.map(f => f.path)).toEqual(['example.com/sample/store/store.go'])
  })

  it("agrees with go tool cover -func: fully covered functions have no missed line, uncovered ones no covered line", () => {
    const hits = profile.files[0]!.lineHits!
    const starts = func.map(f => f.line)
    for (const [i, f] of func.entries()) {
      const end = starts[i + 1] ?? Infinity
      const mine = [...hits].filter(([l]) => l >= f.line && l < end).map(([, h]) => h)
      expect({ name: f.name, lines: mine.length > 0 }).toEqual({ name: f.name, lines: true })
      if (f.pct === 100) expect({ name: f.name, missed: mine.filter(h => h === 0).length }).toEqual({ name: f.name, missed: 0 })
      else if (f.pct === 0) expect({ name: f.name, covered: mine.filter(h => h > 0).length }).toEqual({ name: f.name, covered: 0 })
      else expect({ name: f.name, both: mine.some(h => h > 0) && mine.some(h => h === 0) }).toEqual({ name: f.name, both: true })
    }
    // Lines of the blocks (statements are go's unit, lines this model's): Put's refused-key branch and Keys are missed.
    expect(totals(profile.files).lines).toEqual({ hit: 13, found: 22 })
  })
})

describe('JaCoCo XML of a Maven build (jacoco-maven-plugin)', () => {
  const xml = read('jacoco/jacoco.xml')
  // JaCoCo's CSV: one row per class, the tool's own counts.
  const rows = report('jacoco/jacoco.csv')
    .text.trim()
    .split('\n')
    .slice(1)
    .map(l => l.split(','))
  const sum = (col: number) => rows.reduce((n, r) => n + Number(r[col]), 0)

  it("agrees with JaCoCo's CSV on lines, branches and methods", () => {
    const t = totals(xml.files)
    expect(xml.format).toBe('jacoco')
    expect(t.lines).toEqual({ hit: sum(8), found: sum(7) + sum(8) })
    expect(t.branches).toEqual({ hit: sum(6), found: sum(5) + sum(6) })
    expect(t.functions).toEqual({ hit: sum(12), found: sum(11) + sum(12) })
    expect(xml.files.map(f => f.path).sort()).toEqual(['com/acme/calc/Calc.java', 'com/acme/calc/Parser.java'])
  })

  it("names the never-called factorial's lines as uncovered", () => {
    const calc = xml.files.find(f => f.path.endsWith('Calc.java'))!
    const missed = [...calc.lineHits!].filter(([, h]) => h === 0).map(([l]) => l)
    expect(missed).toEqual(expect.arrayContaining([29, 30, 31, 33]))
  })
})

describe('coverlet-style Cobertura (.NET)', () => {
  it('agrees with the totals on its root element, two types of one file merged', () => {
    const r = read('coverlet/coverage.cobertura.xml')
    const root = /<coverage [^>]*lines-covered="(\d+)" lines-valid="(\d+)" branches-covered="(\d+)" branches-valid="(\d+)"/.exec(
      report('coverlet/coverage.cobertura.xml').text
    )!
    const t = totals(withCoverableCode(r.files))
    expect(t.lines).toEqual({ hit: Number(root[1]), found: Number(root[2]) })
    expect(t.branches).toEqual({ hit: Number(root[3]), found: Number(root[4]) })
    expect(r.files.map(f => f.path)).toEqual(['/home/runner/work/shop/shop/src/Shop/Cart.cs'])
  })
})

describe("surefire's JUnit XML of the same Maven build", () => {
  it('counts the five tests, all passed', () => {
    const { text, source } = report('jacoco/surefire-junit.xml')
    const r = parseJunit(text, source)
    expect({ tests: r.tests, passed: r.passed, failures: r.failures, errors: r.errors, skipped: r.skipped }).toEqual({
      tests: 5,
      passed: 5,
      failures: 0,
      errors: 0,
      skipped: 0
    })
  })
})

describe('grcov lcov of the same gcc runs', () => {
  it("agrees with grcov's covdir totals and its own LF/LH, FNF/FNH, BRF/BRH lines, and with lcov's numbers", () => {
    const r = read('grcov/grcov.info')
    const covdir = JSON.parse(report('grcov/covdir.json').text) as { linesCovered: number; linesTotal: number }
    const text = report('grcov/grcov.info').text
    const sum = (key: string) => [...text.matchAll(new RegExp(`^${key}:(\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0)
    const t = totals(r.files)
    expect(t.lines).toEqual({ hit: covdir.linesCovered, found: covdir.linesTotal })
    expect(t.lines).toEqual({ hit: sum('LH'), found: sum('LF') })
    expect(t.functions).toEqual({ hit: sum('FNH'), found: sum('FNF') })
    expect(t.branches).toEqual({ hit: sum('BRH'), found: sum('BRF') })
    // The same program and runs as the lcov fixture: the same totals.
    expect(t).toEqual(totals(read('lcov/combined.info').files))
    expect(r.files.map(f => f.path).sort()).toEqual(['calc.c', 'main.c'])
  })
})
