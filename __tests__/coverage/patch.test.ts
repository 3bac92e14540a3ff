// Patch coverage's pure parts: git's unified diff read into added lines (on diffs git wrote, with a
// rename, a new file, a binary, a path with a space and one git quotes), report paths matched to
// git's, and the coverage of the added lines.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { lineRanges, parseAddedLines, unquote } from '../../src/coverage/diff.js'
import { matchReportPaths, patchCoverage, type ChangedFile } from '../../src/coverage/patch.js'
import type { FileCoverage } from '../../src/coverage/model.js'
import { checkPatchThreshold } from '../../src/coverage/thresholds.js'

const FIXTURES = join(import.meta.dirname, '../fixtures/coverage/diffs')

describe('parseAddedLines on diffs git wrote', () => {
  const expected = new Map([
    ['café.rs', [1]],
    ['keep.rs', [2, 5, 6, 8]],
    ['new-name.go', [6]],
    ['with space.rs', [1]]
  ])

  it('reads each file by its new path, with the new-side numbers of the added lines only', () => {
    expect(parseAddedLines(readFileSync(join(FIXTURES, 'change.diff'), 'utf8'))).toEqual(expected)
  })

  it('reads paths git quotes (core.quotePath) back as UTF-8', () => {
    expect(parseAddedLines(readFileSync(join(FIXTURES, 'change-quoted.diff'), 'utf8'))).toEqual(expected)
    expect(unquote('"b/tab\\there"')).toBe('b/tab\there')
    expect(unquote('plain')).toBe('plain')
  })

  it('counts context lines on the new side when the diff has them', () => {
    const diff = ['diff --git a/x b/x', '--- a/x', '+++ b/x', '@@ -1,3 +1,4 @@', ' one', '-two', '+2', '+2b', ' three', ''].join(
      '\n'
    )
    expect(parseAddedLines(diff)).toEqual(new Map([['x', [2, 3]]]))
  })

  it('gives nothing for a deletion-only diff', () => {
    const diff = ['diff --git a/x b/x', '--- a/x', '+++ b/x', '@@ -3,2 +2,0 @@', '-a', '-b', ''].join('\n')
    expect(parseAddedLines(diff)).toEqual(new Map())
  })

  it('lineRanges folds consecutive lines', () => {
    expect(lineRanges([9, 3, 4, 5, 5, 12])).toEqual([
      [3, 5],
      [9, 9],
      [12, 12]
    ])
  })
})

describe('matchReportPaths', () => {
  it('matches equal paths, then the longest path suffix either way, and never an ambiguous one', () => {
    const report = [
      'crates/relay/src/lib.rs',
      'com/acme/Calc.java',
      'example.com/app/pkg/store/store.go',
      'a/util.ts',
      'b/util.ts',
      '/home/runner/work/app/app/src/main.rs'
    ]
    const changed = [
      'crates/relay/src/lib.rs',
      'service/src/main/java/com/acme/Calc.java',
      'pkg/store/store.go',
      'x/util.ts',
      'src/main.rs',
      'README.md'
    ]
    expect(matchReportPaths(report, changed)).toEqual(
      new Map([
        ['crates/relay/src/lib.rs', 'crates/relay/src/lib.rs'],
        ['service/src/main/java/com/acme/Calc.java', 'com/acme/Calc.java'],
        ['pkg/store/store.go', 'example.com/app/pkg/store/store.go'],
        ['src/main.rs', '/home/runner/work/app/app/src/main.rs']
      ])
    )
  })

  it('prefers the longer shared suffix', () => {
    expect(matchReportPaths(['util.ts', 'lib/util.ts'], ['pkg/lib/util.ts'])).toEqual(new Map([['pkg/lib/util.ts', 'lib/util.ts']]))
  })
})

describe('patchCoverage', () => {
  const file = (path: string, hits: [number, number][]): FileCoverage => ({
    path,
    lines: { hit: hits.filter(([, h]) => h > 0).length, found: hits.length },
    branches: { hit: 0, found: 0 },
    functions: { hit: 0, found: 0 },
    lineHits: new Map(hits)
  })
  const changed = (path: string, added: number[]): ChangedFile => ({ path, repoPath: path, added })
  const range = { base: 'b'.repeat(40), head: 'h'.repeat(40) }

  it('counts only added lines the report lists as coverable', () => {
    const files = [
      file('src/a.rs', [
        [1, 1],
        [2, 0],
        [3, 4],
        [7, 0],
        [8, 0]
      ]),
      file('src/b.rs', [[1, 1]])
    ]
    const p = patchCoverage(files, [changed('src/a.rs', [2, 3, 4, 5, 7, 8]), changed('src/b.rs', [1]), changed('docs/x.md', [1, 2])], range)
    expect(p.lines).toEqual({ hit: 2, found: 5 })
    expect(p.files.map(f => [f.path, f.lines, f.uncovered])).toEqual([
      ['src/a.rs', { hit: 1, found: 4 }, [2, 7, 8]],
      ['src/b.rs', { hit: 1, found: 1 }, []]
    ])
    expect(p.notInReports).toEqual(['docs/x.md'])
    expect(checkPatchThreshold(p, 40)).toEqual([])
    expect(checkPatchThreshold(p, 40.01)[0]!.message).toBe(
      'patch coverage is 40% (2 of 5 changed lines), below min-patch-coverage 40.01%'
    )
  })

  it('leaves out files with totals only, and a change without coverable lines meets any minimum', () => {
    const totalsOnly: FileCoverage = { ...file('src/s.ts', []), lineHits: undefined }
    const p = patchCoverage([totalsOnly, file('src/a.rs', [[1, 1]])], [changed('src/s.ts', [1]), changed('src/a.rs', [5])], range)
    expect(p.withoutLineData).toEqual(['src/s.ts'])
    expect(p.lines).toEqual({ hit: 0, found: 0 })
    expect(p.files).toEqual([])
    expect(checkPatchThreshold(p, 100)).toEqual([])
  })
})
