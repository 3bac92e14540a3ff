import { coverageDelta } from '../../src/coverage/delta.js'
import { mergeFiles, percent, type FileCoverage } from '../../src/coverage/model.js'
import { workspacePath } from '../../src/coverage/paths.js'
import { parseStoredReport, toStoredReport } from '../../src/coverage/store.js'

const file = (path: string, hits: Record<number, number>): FileCoverage => {
  const lineHits = new Map(Object.entries(hits).map(([l, h]) => [Number(l), h]))
  const hit = [...lineHits.values()].filter(h => h > 0).length
  return { path, lines: { hit, found: lineHits.size }, branches: { hit: 0, found: 0 }, functions: { hit: 0, found: 0 }, lineHits }
}

describe('mergeFiles', () => {
  it('unites line hits of a file measured by two runs (covered when either covered it)', () => {
    const merged = mergeFiles([
      { format: 'lcov', source: 'unit', files: [file('src/a.rs', { 1: 1, 2: 0, 3: 0 })] },
      { format: 'lcov', source: 'integration', files: [file('src/a.rs', { 2: 4, 3: 0, 4: 1 }), file('src/b.rs', { 1: 1 })] }
    ])
    expect(merged.map(f => [f.path, f.lines])).toEqual([
      ['src/a.rs', { hit: 3, found: 4 }],
      ['src/b.rs', { hit: 1, found: 1 }]
    ])
  })

  it('does not add totals-only entries twice', () => {
    const summary: FileCoverage = { path: 'a.ts', lines: { hit: 5, found: 10 }, branches: { hit: 0, found: 0 }, functions: { hit: 0, found: 0 } }
    const merged = mergeFiles([
      { format: 'istanbul-summary', source: 'a', files: [summary] },
      { format: 'istanbul-summary', source: 'b', files: [{ ...summary, lines: { hit: 6, found: 12 } }] }
    ])
    expect(merged).toHaveLength(1)
    expect(merged[0]!.lines).toEqual({ hit: 6, found: 12 })
  })
})

describe('percent', () => {
  it('rounds down, so 99.999% never shows as 100%', () => {
    expect(percent({ hit: 99999, found: 100000 })).toBe(99.99)
    expect(percent({ hit: 0, found: 0 })).toBeUndefined()
  })
})

describe('coverageDelta', () => {
  it('gives the change in points and lists changed, added and removed files, largest drop first', () => {
    const base = [file('a.rs', { 1: 1, 2: 1 }), file('b.rs', { 1: 1, 2: 0 }), file('gone.rs', { 1: 1 })]
    const now = [file('a.rs', { 1: 1, 2: 0 }), file('b.rs', { 1: 1, 2: 0 }), file('new.rs', { 1: 1 })]
    const d = coverageDelta(now, base, 'b'.repeat(40))
    expect(d.base.lines).toBe(80)
    expect(d.lines).toBe(-20)
    expect(d.files.map(f => [f.path, f.delta])).toEqual([
      ['a.rs', -50],
      ['gone.rs', undefined],
      ['new.rs', undefined]
    ])
  })
})

describe('stored reports', () => {
  it('round-trip the counters and the commit', () => {
    const files = [file('src/a.rs', { 1: 1, 2: 0 })]
    const stored = toStoredReport(files, 'c0ffee', new Date('2026-01-01T00:00:00Z'))
    const back = parseStoredReport(JSON.parse(JSON.stringify(stored)) as Record<string, unknown>, 'c0ffee.json')
    expect(back.sha).toBe('c0ffee')
    expect(back.files[0]).toEqual({ path: 'src/a.rs', lines: { hit: 1, found: 2 }, branches: { hit: 0, found: 0 }, functions: { hit: 0, found: 0 } })
  })

  it('name the file and entry when a stored report is damaged', () => {
    expect(() => parseStoredReport({ files: [{ path: 'a.rs', lines: [3, 2] }] }, 'base.json')).toThrow(
      'base.json: stored coverage report: a.rs: "lines" is not [hit, found]'
    )
  })
})

describe('workspacePath', () => {
  it.each([
    ['/ws/crate/src/lib.rs', 'src/lib.rs'.replace(/^/, 'crate/')],
    ['src/lib.rs', 'crate/src/lib.rs'],
    ['/elsewhere/x.rs', '/elsewhere/x.rs'],
    ['./src/../src/main.rs', 'crate/src/main.rs']
  ])('%s becomes %s', (path, expected) => {
    expect(workspacePath(path, '/ws', '/ws/crate')).toBe(expected)
  })
})
