// The test-coverage action end to end through the runner-faithful harness: real npm and cargo
// runs on the sample projects (copied into a scratch workspace), thresholds, annotations, stored
// base reports, and the sticky PR comment against a local GitHub API stand-in.
import { jest } from '@jest/globals'
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync
} from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT, runAction, leaksSecret, type RunActionOptions } from '../harness/runner.js'

// testTimeout in a jest project entry is not applied (it is a global option): set it here.
jest.setTimeout(900_000)

const FIXTURES = join(REPO_ROOT, '__tests__/fixtures/coverage')

function workspaceWith(sample: 'sample-npm' | 'sample-crate', as: string): string {
  const ws = mkdtempSync(join(tmpdir(), 'tc-ws-'))
  cpSync(join(FIXTURES, sample), join(ws, as), {
    recursive: true,
    filter: src => !/\/(target|coverage|node_modules)$/.test(src)
  })
  return ws
}

const run = (options: Omit<RunActionOptions, 'action'>) =>
  runAction({ action: 'test-coverage', timeoutMs: 600_000, ...options })

describe('npm preset on the sample package (node --test)', () => {
  it('reports coverage, tests and a per-file summary, and stores the report by SHA', async () => {
    const ws = workspaceWith('sample-npm', 'app')
    const r = await run({
      cwd: ws,
      inputs: {
        preset: 'npm',
        'working-directory': 'app',
        'junit-files': 'coverage/junit.xml',
        'min-coverage': '60',
        lint: true,
        'base-coverage': 'none'
      },
      github: { GITHUB_SHA: 'a'.repeat(40) }
    })
    expect(r.log.split('\n').filter(l => /^error: /.test(l))).toEqual([])
    expect(r.exitCode).toBe(0)
    // Node 24's test runner leaves the test files out of coverage: the totals are src/retry.mjs's.
    expect(r.outputs).toMatchObject({
      coverage: '60.71',
      'branch-coverage': '88.88',
      tests: '4',
      failures: '0',
      skipped: '1',
      delta: ''
    })
    expect(r.summary).toContain('✅ Tests passed and coverage meets the thresholds.')
    expect(r.summary).toContain('| `app/src/retry.mjs` | 60.71% | 17 / 28 | 88.88% | 4-5, 20-28 |')
    expect(r.summary).toContain('| npm run lint | `npm run lint` | ✅ passed |')
    expect(readFileSync(r.outputs.report!, 'utf8')).toBe(r.summary.trimEnd() + '\n')
    expect(r.outputs['stored-report']).toMatch(new RegExp(`${'a'.repeat(40)}\\.json$`))
  })

  it('annotates a failed test at its file and line and fails the step', async () => {
    const ws = workspaceWith('sample-npm', 'app')
    const r = await run({
      cwd: ws,
      inputs: {
        preset: 'npm',
        'working-directory': 'app',
        'junit-files': 'coverage/junit.xml',
        'base-coverage': 'none'
      },
      env: { SAMPLE_FAIL: '1' }
    })
    expect(r.exitCode).toBe(1)
    expect(r.outputs).toMatchObject({ tests: '4', failures: '1', skipped: '0' })
    const annotations = r.annotations.filter(a => a.level === 'error')
    expect(annotations[0]).toMatchObject({
      properties: {
        file: 'app/test/retry.test.mjs',
        line: '22',
        title: 'test › a 404 is retryable (wrong on purpose when SAMPLE_FAIL=1)'
      }
    })
    expect(annotations[0]!.message).toMatch(/^Expected values to be strictly equal/)
    expect(annotations.at(-1)!.message).toMatch(/^1 of 4 tests failed/)
    expect(r.summary).toContain('❌ 1 test failed.')
  })

  it('fails a threshold stating the figure and the threshold', async () => {
    const ws = workspaceWith('sample-npm', 'app')
    const r = await run({
      cwd: ws,
      inputs: { preset: 'npm', 'working-directory': 'app', 'min-coverage': '90/95', 'base-coverage': 'none' }
    })
    expect(r.exitCode).toBe(1)
    const error = r.annotations.filter(a => a.level === 'error').map(a => a.message)
    expect(error).toEqual([
      'line coverage is 60.71% (17 of 28 lines), below min-coverage 90%; branch coverage is 88.88% (8 of 9 branches), below min-coverage 95%'
    ])
    expect(r.outputs.coverage).toBe('60.71')
  })

  it('min-coverage: 101 is refused before any test runs, saying why', async () => {
    const ws = workspaceWith('sample-npm', 'app')
    const r = await run({
      cwd: ws,
      inputs: { preset: 'npm', 'working-directory': 'app', 'min-coverage': '101' }
    })
    expect(r.exitCode).toBe(1)
    expect(r.annotations.filter(a => a.level === 'error').map(a => a.message)).toEqual([
      'Invalid input min-coverage: line coverage 101% can never be reached; use a percentage from 0 to 100\nNothing was changed. Fix the inputs named above and run the step again.'
    ])
    expect(existsSync(join(ws, 'app/coverage'))).toBe(false)
  })
})

describe('cargo preset on the sample crate (cargo-tarpaulin)', () => {
  it('measures coverage, counts tests from the libtest output and runs clippy and fmt', async () => {
    const ws = workspaceWith('sample-crate', 'crate')
    const r = await run({
      cwd: ws,
      inputs: {
        preset: 'cargo',
        'working-directory': 'crate',
        lint: true,
        'base-coverage': 'none',
        'min-coverage': '50'
      }
    })
    expect(r.log).toContain('coverage by cargo-tarpaulin')
    expect(r.exitCode).toBe(0)
    expect(r.outputs).toMatchObject({ tests: '7', failures: '0', skipped: '1' })
    expect(Number(r.outputs.coverage)).toBeGreaterThan(50)
    expect(Number(r.outputs.coverage)).toBeLessThan(100)
    expect(r.summary).toContain('`crate/src/lib.rs`')
    expect(r.summary).toContain(
      '| cargo clippy | `cargo clippy --message-format=short -- -D warnings` | ✅ passed |'
    )
    expect(r.summary).toContain('| cargo fmt | `cargo fmt -- --check` | ✅ passed |')
  })

  it('annotates a panicking test at src/lib.rs and still reports coverage', async () => {
    const ws = workspaceWith('sample-crate', 'crate')
    const r = await run({
      cwd: ws,
      inputs: { preset: 'cargo', 'working-directory': 'crate', 'base-coverage': 'none' },
      env: { SAMPLE_FAIL: '1' }
    })
    expect(r.exitCode).toBe(1)
    expect(r.outputs).toMatchObject({ failures: '1' })
    expect(Number(r.outputs.coverage)).toBeGreaterThan(0)
    const failure = r.annotations.find(
      a => a.level === 'error' && a.properties.title?.includes('young_batch_waits')
    )
    expect(failure?.properties).toMatchObject({
      file: 'crate/src/lib.rs',
      line: expect.stringMatching(/^\d+$/)
    })
    expect(failure?.message).toMatch(/a batch younger than the deadline must wait/)
  })
  it('turns clippy and rustfmt findings into annotations and fails on them', async () => {
    const ws = workspaceWith('sample-crate', 'crate')
    appendFileSync(join(ws, 'crate/src/lib.rs'), '\npub fn  answer( )->u8{ let x = 42; return x; }\n')
    const r = await run({
      cwd: ws,
      inputs: { preset: 'cargo', 'working-directory': 'crate', lint: true, 'base-coverage': 'none' }
    })
    expect(r.exitCode).toBe(1)
    const errors = r.annotations.filter(a => a.level === 'error')
    const clippy = errors.filter(a => a.properties.title === 'cargo clippy')
    expect(clippy.length).toBeGreaterThan(0)
    expect(clippy[0]!.properties.file).toBe('crate/src/lib.rs')
    expect(errors.find(a => a.properties.title === 'cargo fmt')?.properties).toMatchObject({
      file: 'crate/src/lib.rs'
    })
    expect(errors.at(-1)!.message).toBe(
      'cargo clippy --message-format=short -- -D warnings failed; cargo fmt -- --check failed'
    )
    expect(r.summary).toContain('| cargo fmt | `cargo fmt -- --check` | ❌ failed |')
    expect(r.outputs.failures).toBe('0')
  })
  it('prefers cargo-llvm-cov when it is installed (a stand-in here: llvm-tools cannot be installed offline)', async () => {
    const ws = workspaceWith('sample-crate', 'crate')
    // A cargo subcommand on PATH, as `cargo install cargo-llvm-cov` would leave it. It records its
    // arguments and writes the lcov file where it was told to: the contract the action relies on.
    const bin = join(ws, 'bin')
    mkdirSync(bin)
    writeFileSync(
      join(bin, 'cargo-llvm-cov'),
      [
        '#!/bin/sh',
        'echo "$@" >> "$(dirname "$0")/args"',
        '[ "$2" = "--version" ] && { echo "cargo-llvm-cov 0.6.0"; exit 0; }',
        'while [ $# -gt 0 ]; do [ "$1" = "--output-path" ] && out=$2; shift; done',
        'mkdir -p "$(dirname "$out")"',
        'printf "SF:src/lib.rs\\nDA:1,1\\nDA:2,0\\nend_of_record\\n" > "$out"',
        'echo "test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s"'
      ].join('\n'),
      { mode: 0o755 }
    )
    const r = await run({
      cwd: ws,
      inputs: { preset: 'cargo', 'working-directory': 'crate', 'base-coverage': 'none' },
      env: { PATH: `${bin}:${process.env.PATH}` }
    })
    expect(r.exitCode).toBe(0)
    expect(readFileSync(join(bin, 'args'), 'utf8').trim().split('\n')).toEqual([
      'llvm-cov --version',
      'llvm-cov --no-fail-fast --lcov --output-path target/llvm-cov/lcov.info'
    ])
    expect(r.outputs).toMatchObject({ coverage: '50', tests: '3' })
  })
})

describe('base coverage from stored reports keyed by SHA', () => {
  const lcovA = 'SF:src/a.rs\nDA:1,1\nDA:2,1\nDA:3,0\nDA:4,0\nend_of_record\n'
  const lcovB = 'SF:src/a.rs\nDA:1,1\nDA:2,1\nDA:3,1\nDA:4,0\nend_of_record\n'
  const BASE = 'b'.repeat(40)
  const HEAD = 'c'.repeat(40)

  it("stores the base commit's report in the directory and computes the delta from it on the pull request", async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-base-'))
    writeFileSync(join(ws, 'lcov.info'), lcovA)
    const common = {
      preset: 'custom',
      command: 'true',
      'coverage-files': 'lcov.info',
      'base-coverage': 'history',
      comment: 'false'
    }
    const onMain = await run({ cwd: ws, inputs: common, github: { GITHUB_SHA: BASE } })
    expect(onMain.exitCode).toBe(0)
    expect(onMain.outputs['stored-report']).toBe(join(ws, 'history', `${BASE}.json`))
    expect(onMain.summary).toContain('_No delta: no base commit')

    writeFileSync(join(ws, 'lcov.info'), lcovB)
    const onPr = await run({
      cwd: ws,
      inputs: common,
      github: { GITHUB_SHA: HEAD },
      event: { name: 'pull_request', payload: { pull_request: { number: 3, base: { sha: BASE } } } }
    })
    expect(onPr.exitCode).toBe(0)
    expect(onPr.outputs).toMatchObject({ coverage: '75', delta: '25' })
    expect(onPr.summary).toContain('| Lines | 75.00% | 3 / 4 | +25.00 |')
    expect(existsSync(join(ws, 'history', `${HEAD}.json`))).toBe(true)
  })

  it('reads a base report given as a file, in any supported format', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-basefile-'))
    writeFileSync(join(ws, 'lcov.info'), lcovA)
    writeFileSync(join(ws, 'base.info'), lcovB)
    const r = await run({
      cwd: ws,
      inputs: {
        preset: 'custom',
        command: 'true',
        'coverage-files': 'lcov.info',
        'base-coverage': 'base.info',
        'base-sha': BASE
      }
    })
    expect(r.outputs.delta).toBe('-25')
  })

  it('without the Actions cache service, the cache form gives no delta but does not fail', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-cache-'))
    writeFileSync(join(ws, 'lcov.info'), lcovA)
    const r = await run({
      cwd: ws,
      inputs: {
        preset: 'custom',
        command: 'true',
        'coverage-files': 'lcov.info',
        'base-coverage': 'cache',
        'base-sha': BASE
      }
    })
    expect(r.exitCode).toBe(0)
    expect(r.log).toContain('Actions cache service not available')
    expect(r.outputs.delta).toBe('')
  })
})

describe('reports that are missing or broken', () => {
  it('names the globs and the directory when no coverage report exists', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-none-'))
    const r = await run({
      cwd: ws,
      inputs: { preset: 'custom', command: 'exit 3', 'coverage-files': 'out/*.info' }
    })
    expect(r.exitCode).toBe(1)
    expect(r.annotations.find(a => a.level === 'error')!.message).toBe(
      `No coverage report matched "out/*.info" in ${ws}. The test command exit 3 failed with exit code 3.\nCheck that the test command writes coverage there, or set coverage-files to where it does.`
    )
  })

  it('names the file and line of a malformed report', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-bad-'))
    mkdirSync(join(ws, 'cov'))
    writeFileSync(join(ws, 'cov/lcov.info'), 'SF:a.rs\nDA:1,1\nDA:two,0\nend_of_record\n')
    const r = await run({
      cwd: ws,
      inputs: { preset: 'custom', command: 'true', 'coverage-files': 'cov/*.info' }
    })
    expect(r.exitCode).toBe(1)
    expect(r.annotations.find(a => a.level === 'error')!.message).toBe(
      'cov/lcov.info:3: DA:two,0 is not "line,hits"'
    )
  })

  it('stops a test command that runs past the timeout', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-slow-'))
    const r = await run({
      cwd: ws,
      inputs: { preset: 'custom', command: 'sleep 30', 'coverage-files': 'x', timeout: '2s' }
    })
    expect(r.exitCode).toBe(1)
    expect(r.durationMs).toBeLessThan(20_000)
    expect(r.annotations.find(a => a.level === 'error')!.message).toMatch(
      /^sleep 30 did not finish within the timeout of 2s and was stopped/
    )
  })
})

describe('sticky PR comment against a local GitHub API', () => {
  interface Seen {
    method: string
    path: string
    auth: string | undefined
    body: { body?: string } | undefined
  }
  let server: Server
  let seen: Seen[]
  let comments: { id: number; body: string; html_url: string; user: { login: string; type: string } }[]
  let denyWrites: boolean
  let brokenApi: boolean
  let holdLists = 0
  const held: (() => void)[] = []
  let posts = 0

  beforeAll(async () => {
    server = createServer((req, res) => void handle(req, res))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  })
  afterAll(() => new Promise<void>(resolve => server.close(() => resolve())))
  beforeEach(() => {
    seen = []
    comments = [
      { id: 1, body: 'LGTM from a person', html_url: 'http://x/1', user: { login: 'octocat', type: 'User' } }
    ]
    denyWrites = false
    brokenApi = false
  })

  async function handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    let raw = ''
    for await (const chunk of req) raw += String(chunk)
    const body = raw ? (JSON.parse(raw) as { body?: string }) : undefined
    const path = (req.url ?? '').split('?')[0]!
    seen.push({ method: req.method ?? '', path, auth: req.headers.authorization, body })
    const send = (status: number, data: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(data))
    }
    if (brokenApi) return send(500, { message: 'Server Error' })
    // The job's GITHUB_TOKEN is an installation token: GitHub refuses it GET /user, and its comments are the bot's.
    if (req.method === 'GET' && path === '/user')
      return send(403, { message: 'Resource not accessible by integration' })
    if (req.method === 'GET' && path === '/repos/example/otlp-service/issues/42/comments') {
      // A barrier: the first `holdLists` lists are answered together, so those runs race.
      if (holdLists > 0) {
        const snapshot = JSON.parse(JSON.stringify(comments)) as unknown
        await new Promise<void>(resolve => {
          held.push(resolve)
          if (held.length >= holdLists) {
            holdLists = 0
            held.splice(0).forEach(r => r())
          }
        })
        return send(200, snapshot)
      }
      return send(200, comments)
    }
    if (denyWrites) return send(403, { message: 'Resource not accessible by integration' })
    if (req.method === 'POST' && path === '/repos/example/otlp-service/issues/42/comments') {
      posts++
      const c = {
        id: 100 + comments.length,
        body: body!.body!,
        html_url: `http://x/${100 + comments.length}`,
        user: { login: 'github-actions[bot]', type: 'Bot' }
      }
      comments.push(c)
      return send(201, c)
    }
    const update = /^\/repos\/example\/otlp-service\/issues\/comments\/(\d+)$/.exec(path)
    if (req.method === 'PATCH' && update) {
      const c = comments.find(x => x.id === Number(update[1]))
      if (!c) return send(404, { message: 'Not Found' })
      c.body = body!.body!
      return send(200, c)
    }
    if (req.method === 'DELETE' && update) {
      const at = comments.findIndex(x => x.id === Number(update[1]))
      if (at === -1) return send(404, { message: 'Not Found' })
      comments.splice(at, 1)
      res.writeHead(204)
      return void res.end()
    }
    send(404, { message: 'Not Found' })
  }

  const TOKEN = 'ghs_fakeTokenForTheLocalApi0123456789'
  async function prRun(ws: string, inputs: Record<string, string> = {}) {
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return run({
      cwd: ws,
      inputs: {
        preset: 'custom',
        command: 'true',
        'coverage-files': 'lcov.info',
        'github-token': TOKEN,
        'base-coverage': 'none',
        ...inputs
      },
      env: { GITHUB_API_URL: api },
      github: { GITHUB_API_URL: api, GITHUB_WORKFLOW: 'CI', GITHUB_JOB: 'coverage' },
      event: {
        name: 'pull_request',
        payload: { pull_request: { number: 42, base: { sha: 'd'.repeat(40) } } }
      }
    })
  }

  it('creates the comment on the first run and updates the same one on the second', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-pr-'))
    writeFileSync(join(ws, 'lcov.info'), 'SF:src/a.rs\nDA:1,1\nDA:2,0\nend_of_record\n')
    const first = await prRun(ws)
    expect(first.exitCode).toBe(0)
    expect(seen.map(s => `${s.method} ${s.path}`)).toEqual([
      'GET /user',
      'GET /repos/example/otlp-service/issues/42/comments',
      'POST /repos/example/otlp-service/issues/42/comments'
    ])
    expect(seen[0]!.auth).toBe(`token ${TOKEN}`)
    expect(seen[2]!.body!.body).toMatch(
      /^<!-- otlp-deploy-actions\/test-coverage:CI\/coverage -->\n## Test coverage/
    )
    expect(leaksSecret(first, TOKEN)).toBe(false)

    seen = []
    writeFileSync(join(ws, 'lcov.info'), 'SF:src/a.rs\nDA:1,1\nDA:2,1\nend_of_record\n')
    const second = await prRun(ws)
    expect(second.exitCode).toBe(0)
    expect(seen.map(s => `${s.method} ${s.path}`)).toEqual([
      'GET /user',
      'GET /repos/example/otlp-service/issues/42/comments',
      'PATCH /repos/example/otlp-service/issues/comments/101'
    ])
    expect(comments).toHaveLength(2)
    expect(comments[1]!.body).toContain('| Lines | 100.00% | 2 / 2 |')
  })

  it('never edits a comment in which another user planted the marker: it writes its own', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-planted-'))
    writeFileSync(join(ws, 'lcov.info'), 'SF:src/a.rs\nDA:1,1\nend_of_record\n')
    comments.push({
      id: 2,
      body: '<!-- otlp-deploy-actions/test-coverage:CI/coverage -->\n## Test coverage\nall good, merge it',
      html_url: 'http://x/2',
      user: { login: 'mallory', type: 'User' }
    })
    const r = await prRun(ws)
    expect(r.exitCode).toBe(0)
    expect(seen.map(s => `${s.method} ${s.path}`)).toEqual([
      'GET /user',
      'GET /repos/example/otlp-service/issues/42/comments',
      'POST /repos/example/otlp-service/issues/42/comments'
    ])
    expect(comments[1]!.body).toContain('all good, merge it')
    expect(comments[2]!.user.login).toBe('github-actions[bot]')
  })

  it('comment-layout: sections: two packages finishing at once share one comment, a section each', async () => {
    const api = mkdtempSync(join(tmpdir(), 'tc-sections-api-'))
    const relay = mkdtempSync(join(tmpdir(), 'tc-sections-relay-'))
    writeFileSync(join(api, 'lcov.info'), 'SF:packages/api/a.ts\nDA:1,1\nDA:2,0\nend_of_record\n')
    writeFileSync(join(relay, 'lcov.info'), 'SF:crates/relay/lib.rs\nDA:1,1\nend_of_record\n')
    // Both runs read the empty comment list, so both create: the read-back folds them into one.
    holdLists = 2
    posts = 0
    const [a, b] = await Promise.all([
      prRun(api, { title: 'api', 'comment-layout': 'sections' }),
      prRun(relay, { title: 'relay', 'comment-layout': 'sections' })
    ])
    expect([a.exitCode, b.exitCode]).toEqual([0, 0])
    expect(posts).toBe(2)
    const ours = comments.filter(c => c.user.login === 'github-actions[bot]')
    expect(ours).toHaveLength(1)
    const body = ours[0]!.body
    expect(body.split('\n')[0]).toBe('<!-- otlp-deploy-actions/test-coverage:CI sections -->')
    expect(body.indexOf('<!-- section:api -->')).toBeGreaterThan(0)
    expect(body.indexOf('<!-- section:relay -->')).toBeGreaterThan(body.indexOf('<!-- /section:api -->'))
    expect(body).toContain('## api')
    expect(body).toContain('| Lines | 50.00% | 1 / 2 |')
    expect(body).toContain('## relay')
    expect(body).toContain('| Lines | 100.00% | 1 / 1 |')

    // A rerun of one package replaces its own section only.
    writeFileSync(join(api, 'lcov.info'), 'SF:packages/api/a.ts\nDA:1,1\nDA:2,1\nend_of_record\n')
    const again = await prRun(api, { title: 'api', 'comment-layout': 'sections' })
    expect(again.exitCode).toBe(0)
    const after = comments.filter(c => c.user.login === 'github-actions[bot]')
    expect(after.map(c => c.id)).toEqual([ours[0]!.id])
    expect(after[0]!.body).toContain('| Lines | 100.00% | 2 / 2 |')
    expect(after[0]!.body).toContain('## relay')
    expect(after[0]!.body).not.toContain('| Lines | 50.00% | 1 / 2 |')
  })

  it('skips the comment with a warning, not a failure, when the token may not write', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-fork-'))
    writeFileSync(join(ws, 'lcov.info'), 'SF:src/a.rs\nDA:1,1\nend_of_record\n')
    denyWrites = true
    const r = await prRun(ws)
    expect(r.exitCode).toBe(0)
    expect(seen.map(s => s.method)).toEqual(['GET', 'GET', 'POST'])
    const warnings = r.annotations.filter(a => a.level === 'warning').map(a => a.message)
    expect(warnings).toEqual([
      expect.stringMatching(
        /^PR comment skipped: the token may not write comments on example\/otlp-service#42 \(HTTP 403/
      )
    ])
    expect(r.outputs.coverage).toBe('100')
  })

  it('an API outage is a warning too: the verdict depends on the tests only', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-outage-'))
    writeFileSync(join(ws, 'lcov.info'), 'SF:src/a.rs\nDA:1,1\nend_of_record\n')
    brokenApi = true
    const r = await prRun(ws)
    expect(r.exitCode).toBe(0)
    expect(r.annotations.filter(a => a.level === 'warning').map(a => a.message)).toEqual([
      expect.stringMatching(/^PR comment skipped: the GitHub API call failed: Server Error/)
    ])
  })
})

describe('annotations within what GitHub shows', () => {
  it('annotates 8 of 15 failed tests, says how many more there are, and keeps room for the failure itself', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-cap-'))
    writeFileSync(join(ws, 'lcov.info'), 'SF:src/a.rs\nDA:1,1\nend_of_record\n')
    const cases = Array.from(
      { length: 15 },
      (_, i) =>
        `<testcase name="case ${i + 1}" classname="calc"><failure message="assertion ${i + 1} failed">left != right</failure></testcase>`
    ).join('\n')
    writeFileSync(
      join(ws, 'junit.xml'),
      `<testsuites><testsuite name="calc" tests="15">\n${cases}\n</testsuite></testsuites>\n`
    )
    const r = await run({
      cwd: ws,
      inputs: {
        preset: 'custom',
        command: 'true',
        'coverage-files': 'lcov.info',
        'junit-files': 'junit.xml',
        'base-coverage': 'none'
      }
    })
    expect(r.exitCode).toBe(1)
    const errors = r.annotations.filter(a => a.level === 'error').map(a => a.message)
    expect(errors).toHaveLength(10)
    expect(errors.slice(0, 8).map(m => m.split('\n')[0])).toEqual(
      Array.from({ length: 8 }, (_, i) => `assertion ${i + 1} failed`)
    )
    expect(errors[8]).toBe(
      '7 more errors are not shown as annotations (GitHub shows 10 per step): the failed tests are listed in the job summary'
    )
    expect(errors[9]).toMatch(/15 tests? failed/)
  })
})

describe('least exposure: the code under test gets no token', () => {
  it("the test command's environment has no INPUT_* variable and none of the runner's tokens", async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tc-env-'))
    writeFileSync(join(ws, 'lcov.info'), 'SF:src/a.rs\nDA:1,1\nend_of_record\n')
    const token = 'ghs_theJobTokenTheTestsMustNeverSee0123'
    const runtime = 'eyJhbGciOiJIUzI1NiJ9.runtime-token-of-the-runner'
    const r = await run({
      cwd: ws,
      inputs: {
        preset: 'custom',
        // What code under test would do to steal it: print its environment.
        command: 'env | sort > seen-env.txt; env',
        'coverage-files': 'lcov.info',
        'github-token': token,
        'base-coverage': 'none'
      },
      env: {
        ACTIONS_RUNTIME_TOKEN: runtime,
        GITHUB_TOKEN: token,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: runtime,
        KEEP_ME: 'visible'
      }
    })
    expect(r.exitCode).toBe(0)
    const seen = readFileSync(join(ws, 'seen-env.txt'), 'utf8')
    expect(seen).toContain('KEEP_ME=visible')
    expect(seen).not.toContain(token)
    expect(seen).not.toContain(runtime)
    expect(
      seen.split('\n').filter(l => /^(INPUT_|ACTIONS_RUNTIME_TOKEN|ACTIONS_ID_TOKEN|GITHUB_TOKEN=)/.test(l))
    ).toEqual([])
    expect(leaksSecret(r, token)).toBe(false)
  })
})
