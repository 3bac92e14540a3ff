import { parseConfig } from '../../src/actions/test-coverage/config.js'
import { inputProblems, parseWithDefaults } from '../harness/inputs.js'

// The runner gives the token by default (github.token); these tests start from that.
const withToken = (given: Record<string, string>) => ({ 'github-token': 'ghs_x', ...given })
const parse = (given: Record<string, string>) => parseWithDefaults('test-coverage', parseConfig, withToken(given))
const problems = (given: Record<string, string>) => inputProblems('test-coverage', parseConfig, withToken(given))

describe('test-coverage inputs', () => {
  it('defaults to the cargo preset, the cache as base, comments on pull requests, 30m', () => {
    expect(parse({})).toMatchObject({
      preset: 'cargo',
      workingDirectory: '.',
      command: undefined,
      minCoverage: {},
      comment: undefined,
      baseCoverage: { kind: 'cache' },
      cache: false,
      lint: false,
      timeoutMs: 30 * 60_000
    })
  })

  it('reads thresholds, globs and the base forms', () => {
    const c = parse({ 'min-coverage': '80/60', 'coverage-files': 'a/*.info\n!a/skip.info', 'base-coverage': '.coverage/', comment: 'false' })
    expect(c.minCoverage).toEqual({ line: 80, branch: 60 })
    expect(c.coverageFiles).toEqual(['a/*.info', '!a/skip.info'])
    expect(c.baseCoverage).toEqual({ kind: 'path', path: '.coverage/' })
    expect(c.comment).toBe(false)
    expect(parse({ 'base-coverage': 'none' }).baseCoverage).toEqual({ kind: 'none' })
  })

  it('reports every bad input at once, each naming itself', () => {
    expect(problems({ preset: 'maven', 'min-coverage': '101', timeout: 'soon', 'base-sha': 'main' })).toEqual([
      'preset: "maven" is not one of cargo, npm, custom',
      'min-coverage: line coverage 101% can never be reached; use a percentage from 0 to 100',
      'base-sha: "main" is not a commit SHA (7 to 40 hex digits)',
      'timeout: "soon" is not a duration; use a form like 90s, 5m, 1h30m or 500ms'
    ])
  })

  it('custom needs a command and coverage files', () => {
    expect(problems({ preset: 'custom' })).toEqual([
      'command: is required with preset: custom (the command that runs the tests and writes coverage)',
      'coverage-files: is required with preset: custom (globs of the reports your command writes)'
    ])
  })

  it('comment: true needs a token', () => {
    expect(problems({ comment: 'true', 'github-token': '' })).toEqual([
      'github-token: is empty but comment is true; pass ${{ github.token }} or a token that may write issues'
    ])
  })
})
