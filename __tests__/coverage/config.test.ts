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
      mode: 'test',
      minCoverage: { total: {}, paths: [] },
      minPatchCoverage: undefined,
      patchCoverage: true,
      commentLayout: 'separate',
      reportArtifact: undefined,
      comment: undefined,
      baseCoverage: { kind: 'cache' },
      cache: false,
      lint: false,
      timeoutMs: 30 * 60_000
    })
  })

  it('reads thresholds, globs and the base forms', () => {
    const c = parse({ 'min-coverage': '80/60', 'coverage-files': 'a/*.info\n!a/skip.info', 'base-coverage': '.coverage/', comment: 'false' })
    expect(c.minCoverage).toEqual({ total: { line: 80, branch: 60 }, paths: [] })
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
  it('reads per-path minimums and the patch minimum', () => {
    const c = parse({
      'min-coverage': '80\npackages/api/**: 90/75\n# legacy code\npackages/legacy/**: line=40',
      'min-patch-coverage': '85%'
    })
    expect(c.minCoverage).toEqual({
      total: { line: 80 },
      paths: [
        { glob: 'packages/api/**', line: 90, branch: 75 },
        { glob: 'packages/legacy/**', line: 40 }
      ]
    })
    expect(c.minPatchCoverage).toBe(85)
  })

  it('names the line of a bad per-path minimum, and a patch minimum without patch coverage', () => {
    expect(problems({ 'min-coverage': '80\nsrc/**: 120', 'min-patch-coverage': '90', 'patch-coverage': 'false' })).toEqual([
      'min-coverage: line 2: src/**: line coverage 120% can never be reached; use a percentage from 0 to 100',
      'min-patch-coverage: needs patch-coverage: true (patch coverage is what it checks)'
    ])
    expect(problems({ 'min-coverage': '80\n70' })).toEqual([
      'min-coverage: line 2: a second totals line "70"; give one, and <glob>: <spec> lines for paths'
    ])
    expect(problems({ 'min-patch-coverage': 'most' })).toEqual(['min-patch-coverage: "most" is not a percentage'])
  })

  it('comment mode needs where the report is and a token, and no test inputs', () => {
    expect(problems({ mode: 'comment', preset: 'custom', 'github-token': '' })).toEqual([
      'report-artifact: or comment-file is required with mode: comment (where the test job left its report)',
      'github-token: is required with mode: comment (a token that may write pull request comments)'
    ])
    expect(parse({ mode: 'comment', 'report-artifact': 'coverage', 'run-id': '123' })).toMatchObject({
      mode: 'comment',
      reportArtifact: 'coverage',
      runId: 123
    })
    expect(problems({ 'report-artifact': 'a/b', 'run-id': 'latest', 'comment-file': 'x.json' })).toEqual([
      'report-artifact: "a/b" is not an artifact name (no " : < > | * ? / \\ or line breaks)',
      'run-id: "latest" is not a workflow run id (a number)',
      'comment-file: is read by mode: comment only; the test job writes it (see the comment-file output)'
    ])
  })
})
