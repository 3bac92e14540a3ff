// The same run written in several formats must give the same numbers once parsed: the strongest
// check that each parser reads its format right, on reports the tools really produced here.
import { parseCoverage } from '../../src/coverage/detect.js'
import { totals } from '../../src/coverage/model.js'
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
