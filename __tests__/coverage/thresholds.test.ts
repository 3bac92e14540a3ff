import { checkPathThresholds, checkThresholds, parseMinCoverage, parseThresholds } from '../../src/coverage/thresholds.js'
import type { CoverageTotals } from '../../src/coverage/model.js'

const t = (lines: [number, number], branches: [number, number] = [0, 0]): CoverageTotals => ({
  lines: { hit: lines[0], found: lines[1] },
  branches: { hit: branches[0], found: branches[1] },
  functions: { hit: 0, found: 0 },
  files: 1
})

describe('parseMinCoverage', () => {
  it.each([
    ['', {}],
    ['80', { line: 80 }],
    ['80%', { line: 80 }],
    ['82.5/60', { line: 82.5, branch: 60 }],
    ['80, 60', { line: 80, branch: 60 }],
    ['line=80,branch=60', { line: 80, branch: 60 }],
    ['branches=55', { branch: 55 }]
  ])('reads %j', (text, expected) => {
    expect(parseMinCoverage(text)).toEqual(expected)
  })

  it.each([
    ['101', /line coverage 101% can never be reached; use a percentage from 0 to 100/],
    ['eighty', /"eighty" is not a percentage for line coverage/],
    ['80/60/40', /give a line percentage and optionally a branch one/],
    ['functions=80', /use line=<percent> and\/or branch=<percent>/],
    ['80/x', /"x" is not a percentage for branch coverage/]
  ])('rejects %j saying why', (text, message) => {
    expect(parseMinCoverage(text)).toMatch(message)
  })
})

describe('checkThresholds', () => {
  it('passes at exactly the threshold', () => {
    expect(checkThresholds(t([80, 100]), { line: 80 })).toEqual([])
  })

  it('fails just below it, stating the figure, the counts and the threshold', () => {
    const [v] = checkThresholds(t([7999, 10000]), { line: 80 })
    expect(v!.message).toBe('line coverage is 79.99% (7999 of 10000 lines), below min-coverage 80%')
  })

  it('compares the exact ratio, not the rounded figure', () => {
    // 2/3 = 66.666..% shows as 66.66% and must pass 66.66 but fail 66.67
    expect(checkThresholds(t([2, 3]), { line: 66.66 })).toEqual([])
    expect(checkThresholds(t([2, 3]), { line: 66.67 })).toHaveLength(1)
  })

  it('checks branches separately', () => {
    const v = checkThresholds(t([90, 100], [1, 4]), { line: 80, branch: 50 })
    expect(v.map(x => x.message)).toEqual(['branch coverage is 25% (1 of 4 branches), below min-coverage 50%'])
  })

  it('never treats "nothing coverable" as 0% or as a pass', () => {
    const v = checkThresholds(t([0, 0]), { line: 10, branch: 10 })
    expect(v.map(x => x.message)).toEqual([
      'line coverage cannot be measured (the reports list no coverable lines), so it cannot meet min-coverage 10%',
      'branch coverage cannot be measured (the reports list no coverable branches), so it cannot meet min-coverage 10%'
    ])
  })
})

describe('min-coverage per path glob', () => {
  const f = (path: string, hit: number, found: number) => ({
    path,
    lines: { hit, found },
    branches: { hit: 0, found: 0 },
    functions: { hit: 0, found: 0 }
  })
  const files = [f('packages/api/src/a.ts', 9, 10), f('packages/api/src/b.ts', 8, 10), f('packages/legacy/x.ts', 1, 10)]

  it("checks each glob on its own files' totals", () => {
    const results = checkPathThresholds(files, [
      { glob: 'packages/api/**', line: 85 },
      { glob: 'packages/legacy/**', line: 20 }
    ])
    expect(results.map(r => [r.threshold.glob, r.totals.files, r.totals.lines])).toEqual([
      ['packages/api/**', 2, { hit: 17, found: 20 }],
      ['packages/legacy/**', 1, { hit: 1, found: 10 }]
    ])
    expect(results[0]!.violations).toEqual([])
    expect(results[1]!.violations.map(v => v.message)).toEqual([
      'line coverage of packages/legacy/** is 10% (1 of 10 lines), below min-coverage packages/legacy/**: 20%'
    ])
  })

  it('fails a glob that matches no file, so a typo cannot pass', () => {
    const [r] = checkPathThresholds(files, [{ glob: 'pakages/api/**', line: 50 }])
    expect(r!.violations.map(v => v.message)).toEqual([
      'min-coverage pakages/api/** matches no file of the coverage reports (their paths are relative to the workspace)'
    ])
  })

  it('a glob without a slash matches base names', () => {
    const [r] = checkPathThresholds(files, [{ glob: 'a.ts', line: 90 }])
    expect(r!.totals.files).toBe(1)
    expect(r!.violations).toEqual([])
  })

  it('parseThresholds reads one totals line and any number of path lines', () => {
    expect(parseThresholds('packages/api/**: 90/75\n80')).toEqual({
      total: { line: 80 },
      paths: [{ glob: 'packages/api/**', line: 90, branch: 75 }]
    })
    expect(parseThresholds('src/**:')).toBe('src/**: no percentage after the glob')
  })
})
