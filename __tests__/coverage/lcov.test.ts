import { parseLcov } from '../../src/coverage/parse/lcov.js'
import { ReportError } from '../../src/coverage/errors.js'
import { percent, totals, uncoveredRanges } from '../../src/coverage/model.js'
import { report } from './fixtures.js'

function errorOf(fn: () => unknown): ReportError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ReportError) return err
    throw err
  }
  throw new Error('expected a ReportError')
}

describe('parseLcov on real reports', () => {
  it('reads node --test lcov with lines, branches and functions per file', () => {
    const { text, source } = report('node/lcov.info')
    const r = parseLcov(text, source)
    const retry = r.files.find(f => f.path === 'src/retry.mjs')!
    expect(retry.lines).toEqual({ hit: 17, found: 28 })
    expect(retry.functions).toEqual({ hit: 2, found: 3 })
    expect(retry.branches).toEqual({ hit: 10, found: 11 })
    expect(uncoveredRanges(retry)).toBe('4-5, 20-28')
  })

  it('reads jest lcov of this repository with relative paths and agrees with its LF/LH summaries', () => {
    const { text, source } = report('jest/lcov.info')
    const r = parseLcov(text, source)
    expect(r.files.length).toBeGreaterThan(5)
    // jest writes paths relative to its rootDir
    for (const f of r.files) expect(f.path).toMatch(/^src\/.+\.ts$/)
    // The DA records and the LF/LH lines the tool wrote must agree.
    const lf = [...text.matchAll(/^LF:(\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0)
    const lh = [...text.matchAll(/^LH:(\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0)
    expect(totals(r.files).lines).toEqual({ hit: lh, found: lf })
  })
})

describe('parseLcov on edge cases', () => {
  it('takes counters from LF/LH when there are no DA records', () => {
    const r = parseLcov('SF:a.rs\nLF:10\nLH:4\nBRF:2\nBRH:1\nend_of_record\n', 'x.info')
    expect(r.files[0]).toMatchObject({ lines: { hit: 4, found: 10 }, branches: { hit: 1, found: 2 } })
    expect(percent(r.files[0]!.lines)).toBe(40)
  })

  it('adds up a line listed twice and treats BRDA "-" as not taken', () => {
    const r = parseLcov('SF:a.ts\nDA:1,0\nDA:1,2\nDA:2,0\nBRDA:1,0,0,-\nBRDA:1,0,1,3\nend_of_record', 'x.info')
    expect(r.files[0]!.lines).toEqual({ hit: 1, found: 2 })
    expect(r.files[0]!.branches).toEqual({ hit: 1, found: 2 })
  })

  it('understands lcov 2 FN records with an end line, CRLF line ends and unknown record types', () => {
    const text = 'VER:2\r\nSF:a.c\r\nFN:3,9,main\r\nFNDA:1,main\r\nFNL:0,3,9\r\nDA:3,1\r\nend_of_record\r\n'
    const r = parseLcov(text, 'x.info')
    expect(r.files[0]!.functions).toEqual({ hit: 1, found: 1 })
  })

  it.each([
    ['SF:a\nDA:x,1\nend_of_record\n', 2, /DA:x,1 is not "line,hits"/],
    ['SF:a\nDA:3\nend_of_record\n', 2, /DA:3 is not "line,hits"/],
    ['SF:a\nDA:1,1\nBRDA:1,0,yes\nend_of_record\n', 3, /BRDA:1,0,yes is not "line,block,branch,taken"/],
    ['DA:1,1\n', 1, /DA record outside an SF/],
    ['SF:a\nDA:1,1\nSF:b\n', 3, /starts a new file before end_of_record of a/],
    ['SF:a\nDA:1,1\n', 3, /no end_of_record\): truncated/],
    ['SF:a\nthis is not lcov\nend_of_record\n', 2, /"this is not lcov" is not an lcov record/],
    ['SF:a\nLF:many\nend_of_record\n', 2, /LF:many is not a count/]
  ])('rejects %j at the offending line', (text, line, message) => {
    const err = errorOf(() => parseLcov(text, 'cov/lcov.info'))
    expect(err.line).toBe(line)
    expect(err.file).toBe('cov/lcov.info')
    expect(err.message).toMatch(new RegExp(`^cov/lcov.info:${line}: `))
    expect(err.message).toMatch(message)
  })
})
