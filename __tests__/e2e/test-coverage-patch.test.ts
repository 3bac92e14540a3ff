// Patch coverage end to end: a real git history made here (a base commit, a pull request branch
// that adds covered and uncovered lines, GitHub's merge commit under refs/pull/N/merge), checked out
// shallow as actions/checkout does, and the sample package's real tests (node --test, lcov) run by
// the bundled action. The origin is a file:// repository with uploadpack.allowAnySHA1InWant, which
// is how GitHub serves a fetch of any commit by its SHA.
import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT, runAction, type RunActionOptions } from '../harness/runner.js'

jest.setTimeout(600_000)

const SAMPLE = join(REPO_ROOT, '__tests__/fixtures/coverage/sample-npm')

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'advice.detachedHead=false', ...args],
    {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe']
    }
  ).trim()
}

// What the pull request adds to src/retry.mjs: jitterMs is tested by the new test; the twelve
// unusedN functions are not (each a separate range of uncovered lines).
const ADDED_CODE = [
  '',
  'export function jitterMs(delayMs, random = Math.random) {',
  '  const spread = delayMs / 10',
  '  return Math.round(delayMs - spread + random() * 2 * spread)',
  '}',
  ...Array.from({ length: 12 }, (_, i) => [
    '',
    `export function unused${i}(x) {`,
    `  return x + ${i}`,
    '}'
  ]).flat(),
  ''
].join('\n')
const ADDED_TEST = [
  '',
  "test('jitter stays within 10% of the delay', async () => {",
  "  const { jitterMs } = await import('../src/retry.mjs')",
  '  assert.equal(jitterMs(1000, () => 0), 900)',
  '  assert.equal(jitterMs(1000, () => 1), 1100)',
  '})',
  ''
].join('\n')

interface History {
  origin: string
  base: string
  head: string
  merge: string
  /** The line of src/retry.mjs where jitterMs starts (the first added line is a blank one before it). */
  firstAddedLine: number
}

/** origin: main with the sample package; pr: covered and uncovered additions; main moves on after the fork. */
function makeHistory(): History {
  const origin = mkdtempSync(join(tmpdir(), 'tc-origin-'))
  git(origin, 'init', '-q', '-b', 'main')
  git(origin, 'config', 'uploadpack.allowAnySHA1InWant', 'true')
  cpSync(SAMPLE, join(origin, 'app'), { recursive: true, filter: s => !/\/(coverage|node_modules)$/.test(s) })
  git(origin, 'add', '.')
  git(origin, 'commit', '-qm', 'sample package')
  const forkPoint = git(origin, 'rev-parse', 'HEAD')

  git(origin, 'checkout', '-qb', 'pr')
  const src = join(origin, 'app/src/retry.mjs')
  const before = readFileSync(src, 'utf8')
  writeFileSync(src, before + ADDED_CODE)
  writeFileSync(
    join(origin, 'app/test/retry.test.mjs'),
    readFileSync(join(origin, 'app/test/retry.test.mjs'), 'utf8') + ADDED_TEST
  )
  writeFileSync(join(origin, 'app/NOTES.md'), 'jitter, explained\n')
  git(origin, 'add', '.')
  git(origin, 'commit', '-qm', 'jitter')
  const head = git(origin, 'rev-parse', 'HEAD')

  // main moves on with an unrelated change, so the merge base is not the base.
  git(origin, 'checkout', '-q', 'main')
  writeFileSync(join(origin, 'README.md'), 'main moved on\n')
  git(origin, 'add', '.')
  git(origin, 'commit', '-qm', 'readme')
  const base = git(origin, 'rev-parse', 'HEAD')

  // GitHub's test merge of the pull request into its base.
  git(origin, 'checkout', '-q', '--detach', base)
  git(origin, 'merge', '-q', '--no-ff', '-m', 'Merge pr into main', head)
  const merge = git(origin, 'rev-parse', 'HEAD')
  git(origin, 'update-ref', 'refs/pull/42/merge', merge)
  git(origin, 'update-ref', 'refs/pull/42/head', head)
  git(origin, 'checkout', '-q', 'main')
  expect(forkPoint).not.toBe(base)
  return { origin, base, head, merge, firstAddedLine: before.split('\n').length + 1 }
}

/** A checkout as actions/checkout makes it for a pull_request event: the merge ref, fetch-depth 1. */
function shallowCheckout(h: History, ref: string): string {
  const ws = mkdtempSync(join(tmpdir(), 'tc-ws-'))
  git(ws, 'init', '-q')
  git(ws, 'remote', 'add', 'origin', `file://${h.origin}`)
  git(ws, 'fetch', '-q', '--no-tags', '--depth=1', 'origin', ref)
  git(ws, 'checkout', '-q', '--detach', 'FETCH_HEAD')
  expect(git(ws, 'rev-parse', '--is-shallow-repository')).toBe('true')
  return ws
}

const run = (options: Omit<RunActionOptions, 'action'>) =>
  runAction({ action: 'test-coverage', timeoutMs: 300_000, ...options })

const prEvent = (h: History) => ({
  name: 'pull_request',
  payload: { pull_request: { number: 42, base: { sha: h.base }, head: { sha: h.head } } }
})

describe('patch coverage on a real git history', () => {
  let h: History
  beforeAll(() => {
    h = makeHistory()
  })

  it('on the merge commit of a shallow checkout: fetches the base, measures the added lines, links and annotates the uncovered ones', async () => {
    const ws = shallowCheckout(h, 'refs/pull/42/merge')
    const r = await run({
      cwd: ws,
      inputs: {
        preset: 'npm',
        'working-directory': 'app',
        'base-coverage': 'none',
        'min-patch-coverage': '60',
        comment: 'false'
      },
      github: { GITHUB_SHA: h.merge },
      event: prEvent(h)
    })
    // node's coverage lists every line: the blank lines and jitterMs run (5), and of each unused
    // function its declaration line runs (module load) and its body and brace do not (12 × 2).
    expect(r.outputs).toMatchObject({ 'patch-lines': '53', 'patch-covered': '29', 'patch-coverage': '54.71' })
    expect(r.exitCode).toBe(1)
    const errors = r.annotations.filter(a => a.level === 'error').map(a => a.message)
    expect(errors).toEqual([
      'patch coverage is 54.71% (29 of 53 changed lines), below min-patch-coverage 60%'
    ])
    // The base was fetched (the checkout had only the merge commit), then one commit of history.
    expect(r.log).toContain(`git fetch --depth=1 origin ${h.base} (base ${h.base.slice(0, 7)})`)
    expect(r.log).toMatch(/git fetch --deepen=1 origin/)

    // Twelve uncovered ranges: nine annotations, then one that says where the rest are.
    const warnings = r.annotations.filter(a => a.level === 'warning')
    const first = h.firstAddedLine + 6
    expect(
      warnings.slice(0, 9).map(w => [w.properties.file, w.properties.line, w.properties.endLine, w.message])
    ).toEqual(
      Array.from({ length: 9 }, (_, i) => [
        'app/src/retry.mjs',
        String(first + 4 * i),
        String(first + 4 * i + 1),
        `Added lines ${first + 4 * i}-${first + 4 * i + 1} are not covered by tests`
      ])
    )
    expect(warnings[9]!.message).toBe(
      '3 more warnings are not shown as annotations (GitHub shows 10 per step): the uncovered changed lines are listed in the job summary'
    )
    expect(warnings).toHaveLength(10)

    // The summary: the row, the file with linked ranges (the PR head's blob: the file is the same there).
    expect(r.summary).toContain('| Changed lines | 54.71% | 29 / 53 |')
    expect(r.summary).toContain('**Changed lines:** 24 of 53 coverable lines added in')
    const blob = `https://github.com/example/otlp-service/blob/${h.head}/app/src/retry.mjs`
    expect(r.summary).toContain(`[${first}-${first + 1}](${blob}#L${first}-L${first + 1})`)
    expect(r.summary).toContain(
      '2 changed files are in no coverage report: `app/NOTES.md`, `app/test/retry.test.mjs`.'
    )
  })

  it('on a push: before..after, all added lines covered, the minimum met', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-push-'))
    git(ws, 'clone', '-q', h.origin, '.')
    git(ws, 'checkout', '-q', '--detach', h.head)
    // The push adds what the pull request adds: jitterMs (tested) and the twelve unused functions.
    const parent = git(ws, 'rev-parse', 'HEAD~1')
    const r = await run({
      cwd: ws,
      inputs: {
        preset: 'npm',
        'working-directory': 'app',
        'base-coverage': 'none',
        'min-patch-coverage': '10',
        comment: 'false'
      },
      github: { GITHUB_SHA: h.head },
      event: { name: 'push', payload: { before: parent, after: h.head } }
    })
    expect(r.outputs).toMatchObject({ 'patch-lines': '53', 'patch-covered': '29' })
    expect(r.exitCode).toBe(0)
    expect(r.log).not.toContain('git fetch')
  })

  it('says exactly what is missing when the base cannot be fetched, and a patch minimum then fails', async () => {
    const ws = shallowCheckout(h, 'refs/pull/42/merge')
    const gone = 'f'.repeat(40)
    const common = { preset: 'npm', 'working-directory': 'app', 'base-coverage': 'none', comment: 'false' }
    const event = {
      name: 'pull_request',
      payload: { pull_request: { number: 42, base: { sha: gone }, head: { sha: h.head } } }
    }
    const noMin = await run({ cwd: ws, inputs: common, github: { GITHUB_SHA: h.merge }, event })
    expect(noMin.exitCode).toBe(0)
    expect(noMin.outputs['patch-coverage']).toBe('')
    expect(noMin.summary).toContain(
      '_No patch coverage: the base commit fffffff is not in the checkout and could not be fetched from origin; check out with fetch-depth: 0, or fetch it before this step_'
    )
    const withMin = await run({
      cwd: ws,
      inputs: { ...common, 'min-patch-coverage': '80' },
      github: { GITHUB_SHA: h.merge },
      event
    })
    expect(withMin.exitCode).toBe(1)
    expect(withMin.annotations.filter(a => a.level === 'error').map(a => a.message)).toEqual([
      'patch coverage cannot be measured, so it cannot meet min-patch-coverage 80%: the base commit fffffff is not in the checkout and could not be fetched from origin; check out with fetch-depth: 0, or fetch it before this step'
    ])
  })

  it('a push whose previous tip is gone for good (a force push) warns instead of failing the patch minimum', async () => {
    const ws = shallowCheckout(h, 'refs/pull/42/head')
    const gone = 'e'.repeat(40)
    const r = await run({
      cwd: ws,
      inputs: {
        preset: 'npm',
        'working-directory': 'app',
        'base-coverage': 'none',
        'min-patch-coverage': '80'
      },
      github: { GITHUB_SHA: h.head },
      event: { name: 'push', payload: { before: gone, after: h.head, forced: true } }
    })
    expect(r.exitCode).toBe(0)
    expect(r.annotations.filter(a => a.level === 'warning').map(a => a.message)).toEqual([
      'min-patch-coverage 80% not checked: the base commit eeeeeee is not in the checkout and could not be fetched from origin; check out with fetch-depth: 0, or fetch it before this step'
    ])
  })

  it('a run without a base commit (workflow_dispatch) has no patch coverage and no patch verdict', async () => {
    const ws = shallowCheckout(h, 'refs/pull/42/head')
    const r = await run({
      cwd: ws,
      inputs: {
        preset: 'npm',
        'working-directory': 'app',
        'base-coverage': 'none',
        'min-patch-coverage': '80'
      },
      github: { GITHUB_SHA: h.head },
      event: { name: 'workflow_dispatch', payload: {} }
    })
    expect(r.exitCode).toBe(0)
    expect(r.outputs['patch-coverage']).toBe('')
    expect(r.summary).toContain('_No patch coverage: no base commit to compare with')
  })
})
