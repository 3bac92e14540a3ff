import { commentMarker, COMMENT_LIMIT, renderComment, renderReport, worstFirst, type ReportInput } from '../../src/coverage/markdown.js'
import { coverageDelta } from '../../src/coverage/delta.js'
import { totals, type FileCoverage } from '../../src/coverage/model.js'

const f = (path: string, hit: number, found: number): FileCoverage => ({
  path,
  lines: { hit, found },
  branches: { hit: 0, found: 0 },
  functions: { hit: 0, found: 0 }
})

const base = (files: FileCoverage[], extra: Partial<ReportInput> = {}): ReportInput => ({
  title: 'Test coverage',
  totals: totals(files),
  files,
  tests: { tests: 3, passed: 2, failures: 1, errors: 0, skipped: 0, durationMs: 10, failed: [{ suite: 'unit', name: 'parses | pipes', message: 'boom', details: 'boom\nat x', file: 'src/a.rs', line: 3 }] },
  delta: undefined,
  violations: [],
  lint: [],
  maxFiles: 100,
  ...extra
})

describe('worstFirst', () => {
  it('orders by line coverage, then by missed lines, and files without lines last', () => {
    const order = worstFirst([f('empty.rs', 0, 0), f('good.rs', 9, 10), f('small-bad.rs', 1, 2), f('big-bad.rs', 50, 100)])
    expect(order.map(x => x.path)).toEqual(['big-bad.rs', 'small-bad.rs', 'good.rs', 'empty.rs'])
  })
})

describe('renderReport', () => {
  it('shows the verdict, totals, failures and a collapsible per-file table', () => {
    const text = renderReport(base([f('src/a.rs', 1, 4), f('src/b.rs', 4, 4)]))
    expect(text).toContain('❌ 1 test failed.')
    expect(text).toContain('| Lines | 62.50% | 5 / 8 |')
    expect(text).toContain('<details><summary>unit › parses | pipes (src/a.rs:3)</summary>')
    expect(text).toContain('<details><summary>Coverage of 2 files (worst first)</summary>')
    expect(text.indexOf('`src/a.rs`')).toBeLessThan(text.indexOf('`src/b.rs`'))
  })

  it('shows the delta column and the changed files when there is a base', () => {
    const now = [f('src/a.rs', 1, 4)]
    const text = renderReport(base(now, { delta: coverageDelta(now, [f('src/a.rs', 3, 4)], 'abcdef1234567') }))
    expect(text).toContain('| Δ vs abcdef1 |')
    expect(text).toContain('| Lines | 25.00% | 1 / 4 | −50.00 |')
    expect(text).toContain('Changed coverage in 1 file')
  })

  it('says why there is no delta', () => {
    expect(renderReport(base([f('a', 1, 1)], { deltaNote: 'no cached report for base abc1234' }))).toContain(
      '_No delta: no cached report for base abc1234_'
    )
  })
})

describe('renderComment', () => {
  it('starts with the hidden marker and stays under GitHub\'s comment limit for huge projects', () => {
    const many = Array.from({ length: 5000 }, (_, i) => f(`src/module_${i}/a_rather_long_file_name_${i}.rs`, i % 7, 7))
    const marker = commentMarker('CI', 'test')
    const body = renderComment(marker, base(many, { maxFiles: 5000 }))
    expect(body.startsWith('<!-- otlp-deploy-actions/test-coverage:CI/test -->\n')).toBe(true)
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT)
    expect(body).toContain('more files')
  })

  it('keeps one marker per workflow and job (and title when one job reports several crates)', () => {
    expect(commentMarker('CI', 'test')).not.toBe(commentMarker('CI', 'lint'))
    expect(commentMarker('CI', 'test', 'relay')).toBe('<!-- otlp-deploy-actions/test-coverage:CI/test/relay -->')
    expect(commentMarker('a--b', 'c')).not.toContain('--b')
  })
})
