// The same run written in several formats must give the same numbers once parsed: the strongest
// check that each parser reads its format right, on reports the tools really produced here.
import { parseCoverage } from '../../src/coverage/detect.js'
import { totals, withCoverableCode } from '../../src/coverage/model.js'
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
