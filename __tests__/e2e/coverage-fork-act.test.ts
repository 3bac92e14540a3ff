/**
 * The fork-safe two-workflow setup under a real runner (nektos/act, built from its Go module), with
 * the two workflows exactly as workflows-examples/ ships them:
 *   1. coverage-fork.yml on pull_request: the sample package's real tests, patch coverage on the
 *      caller repository's git history, the comment uploaded as an artifact by @actions/artifact's
 *      own client, and no GitHub REST API call at all;
 *   2. coverage-comment.yml on workflow_run: the artifact found and downloaded through GitHub's REST
 *      API, checked against the pull request, posted as the sticky comment.
 * A loopback server plays GitHub: its REST API in the documented shapes, and the Actions results
 * service the upload talks to (CreateArtifact, the signed blob upload in blocks, FinalizeArtifact).
 * act's own artifact server cannot take the upload: it signs the URL with an unescaped `=` that
 * @azure/storage-blob 12.31 drops, so every upload is refused as unauthorized (nektos/act#6021).
 */
import { jest } from '@jest/globals'
import { execFileSync, spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '../harness/runner.js'

jest.setTimeout(900_000)

const RUN_ID = 4242
const ARTIFACT = 'coverage-comment'
const TOKEN = 'ghs_forkTestTokenForTheLoopbackApi0123'

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    encoding: 'utf8'
  }).trim()
}

interface Seen {
  method: string
  path: string
  body?: { body?: string }
}

describe('coverage for a fork pull request: test job and comment job (workflows-examples) under act', () => {
  let work: string
  let act: string
  let service: string
  let base: string
  let head: string
  let server: Server
  let seen: Seen[]
  let pullHead: string
  const comments: { id: number; body: string; html_url: string; user: { login: string; type: string } }[] = []

  beforeAll(async () => {
    act = execFileSync('bash', [join(REPO_ROOT, 'scripts/act-run.sh'), '--build'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1)!
    work = mkdtempSync(join(tmpdir(), 'tc-fork-act-'))
    // What a release tag of this repository holds, for --local-repository.
    const snapshot = join(work, 'snapshot')
    mkdirSync(join(snapshot, 'dist'), { recursive: true })
    cpSync(join(REPO_ROOT, 'actions'), join(snapshot, 'actions'), { recursive: true })
    cpSync(join(REPO_ROOT, 'dist/test-coverage'), join(snapshot, 'dist/test-coverage'), { recursive: true })

    // The service repository: the sample package at the base commit, then the pull request's commit.
    service = join(work, 'service')
    mkdirSync(join(service, '.github/workflows'), { recursive: true })
    for (const f of ['coverage-fork.yml', 'coverage-comment.yml'])
      cpSync(join(REPO_ROOT, 'workflows-examples', f), join(service, '.github/workflows', f))
    cpSync(join(REPO_ROOT, '__tests__/fixtures/coverage/sample-npm'), join(service, 'app'), {
      recursive: true,
      filter: s => !/\/(coverage|node_modules)$/.test(s)
    })
    git(service, 'init', '-q', '-b', 'main')
    git(service, 'remote', 'add', 'origin', 'https://github.com/acme/greeter.git')
    git(service, 'add', '-A')
    git(service, 'commit', '-qm', 'base')
    base = git(service, 'rev-parse', 'HEAD')
    // node's coverage lists every added line: jitterMs (7), two blank lines and unused's declaration
    // run (module load), unused's body and brace do not: 10 of 12, above the example's 60%.
    const src = join(service, 'app/src/retry.mjs')
    writeFileSync(
      src,
      readFileSync(src, 'utf8') +
        [
          '',
          'export function jitterMs(delayMs, random = Math.random) {',
          '  const spread = delayMs / 10',
          '  const low = delayMs - spread',
          '  const width = 2 * spread',
          '  const value = low + random() * width',
          '  return Math.round(value)',
          '}',
          '',
          'export function unused(x) {',
          '  return x + 1',
          '}',
          ''
        ].join('\n')
    )
    const testFile = join(service, 'app/test/retry.test.mjs')
    writeFileSync(
      testFile,
      readFileSync(testFile, 'utf8') +
        "\ntest('jitter stays within 10%', async () => {\n  const { jitterMs } = await import('../src/retry.mjs')\n  assert.equal(jitterMs(1000, () => 0), 900)\n})\n"
    )
    git(service, 'commit', '-qam', 'jitter')
    head = git(service, 'rev-parse', 'HEAD')
    pullHead = head

    server = createServer((req, res) => void handle(req, res))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  })
  afterAll(() => new Promise<void>(resolve => server.close(() => resolve())))

  // The results service's store: blocks staged per blob, the committed zip per run and name.
  const blocks = new Map<string, Buffer>()
  const zips = new Map<string, Buffer>()
  let resultsCalls: string[] = []

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const bytes = Buffer.concat(chunks)
    const raw = bytes.toString('utf8')
    const url = new URL(req.url ?? '/', 'http://x')
    const path = url.pathname
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    // The Actions results service (Twirp JSON), as @actions/artifact calls it with the runner's token.
    if (path.startsWith('/twirp/github.actions.results.api.v1.ArtifactService/')) {
      const method = path.split('/').at(-1)!
      resultsCalls.push(method)
      // protobuf's JSON names (snake_case), as the toolkit's Twirp client sends them.
      const body = JSON.parse(raw) as { workflow_run_backend_id: string; name: string }
      res.writeHead(200, { 'content-type': 'application/json' })
      if (method === 'CreateArtifact')
        return void res.end(
          JSON.stringify({
            ok: true,
            signed_upload_url: `${api}/results-blob/${body.workflow_run_backend_id}/${body.name}?sig=s`
          })
        )
      if (method === 'FinalizeArtifact')
        return void res.end(JSON.stringify({ ok: true, artifact_id: '9001' }))
      return void res.end(JSON.stringify({ ok: false }))
    }
    // The signed blob URL: Azure's Put Block and Put Block List (or one Put Blob).
    if (path.startsWith('/results-blob/')) {
      const key = path.slice('/results-blob/'.length)
      if (url.searchParams.get('comp') === 'block')
        blocks.set(`${key}#${url.searchParams.get('blockid')}`, bytes)
      else if (url.searchParams.get('comp') === 'blocklist') {
        const ids = [...raw.matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]+)</g)].map(m => m[1]!)
        zips.set(key, Buffer.concat(ids.map(id => blocks.get(`${key}#${id}`)!)))
      } else zips.set(key, bytes)
      res.writeHead(201, { etag: '"1"', 'last-modified': new Date().toUTCString() })
      return void res.end()
    }
    seen.push({
      method: req.method ?? '',
      path,
      ...(raw && !path.startsWith('/blob/') ? { body: JSON.parse(raw) as { body?: string } } : {})
    })
    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(JSON.stringify(data))
    }
    const repo = '/repos/acme/greeter'
    const artifactZip = zips.get(`${RUN_ID}/${ARTIFACT}`)
    if (req.headers.authorization !== `token ${TOKEN}` && !path.startsWith('/blob/'))
      return send(401, { message: 'Bad credentials' })
    if (path === '/user') return send(403, { message: 'Resource not accessible by integration' })
    // GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts: from act's artifact store.
    if (path === `${repo}/actions/runs/${RUN_ID}/artifacts`) {
      const have = artifactZip !== undefined && url.searchParams.get('name') === ARTIFACT
      return send(200, {
        total_count: have ? 1 : 0,
        artifacts: have
          ? [
              {
                id: 9001,
                name: ARTIFACT,
                size_in_bytes: artifactZip!.length,
                expired: false,
                created_at: new Date().toISOString(),
                workflow_run: { id: RUN_ID, head_sha: head }
              }
            ]
          : []
      })
    }
    // GET /repos/{owner}/{repo}/actions/artifacts/{id}/zip answers 302 to a short-lived blob URL.
    if (path === `${repo}/actions/artifacts/9001/zip`)
      return send(302, {}, { location: `${api}/blob/${RUN_ID}.zip?sig=x` })
    if (path === `/blob/${RUN_ID}.zip`) {
      res.writeHead(200, { 'content-type': 'application/zip' })
      return void res.end(artifactZip)
    }
    if (path === `${repo}/pulls/42`)
      return send(200, {
        number: 42,
        head: { sha: pullHead, repo: { full_name: 'fork/greeter' } },
        base: { sha: base }
      })
    if (path === `${repo}/issues/42/comments` && req.method === 'GET') return send(200, comments)
    if (path === `${repo}/issues/42/comments` && req.method === 'POST') {
      const c = {
        id: 500 + comments.length,
        body: (JSON.parse(raw) as { body: string }).body,
        html_url: `https://github.com/acme/greeter/pull/42#issuecomment-${500 + comments.length}`,
        user: { login: 'github-actions[bot]', type: 'Bot' }
      }
      comments.push(c)
      return send(201, c)
    }
    send(404, { message: 'Not Found' })
  }

  function runAct(
    event: string,
    workflow: string,
    payload: object,
    runId: number
  ): Promise<{ code: number | null; log: string }> {
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const eventFile = join(work, `${event}.json`)
    writeFileSync(eventFile, JSON.stringify(payload))
    const secrets = join(work, 'secrets.yml')
    writeFileSync(secrets, `GITHUB_TOKEN: ${TOKEN}\n`)
    const args = [
      event,
      '--platform',
      'ubuntu-latest=-self-hosted',
      '--action-offline-mode',
      '--env-file',
      '/dev/null',
      '--input-file',
      '/dev/null',
      '--var-file',
      '/dev/null',
      '--secret-file',
      secrets,
      '--workflows',
      `.github/workflows/${workflow}`,
      '--eventpath',
      eventFile,
      '--local-repository',
      `otlp-deploy-actions/otlp-deploy-actions@v1=${join(work, 'snapshot')}`,
      '--action-cache-path',
      join(work, 'action-cache'),
      '--cache-server-addr',
      '127.0.0.1',
      '--cache-server-path',
      join(work, 'cache-server'),
      '--artifact-server-addr',
      '127.0.0.1',
      // Without a path act gives the job no runtime token; its server is not what the job talks to.
      '--artifact-server-path',
      join(work, 'act-artifacts'),
      '--env',
      `GITHUB_RUN_ID=${runId}`,
      '--env',
      `GITHUB_API_URL=${api}`
    ]
    return new Promise(resolve => {
      const child = spawn(act, args, {
        cwd: service,
        env: {
          PATH: `${join(REPO_ROOT, 'node_modules/.bin')}:${process.env.PATH}`,
          HOME: process.env.HOME ?? '/root',
          ACT_DISABLE_VERSION_CHECK: '1',
          // act hands the job this URL as ACTIONS_RESULTS_URL: the loopback results service.
          ACTIONS_RUNTIME_URL: `${api}/`
        }
      })
      let log = ''
      child.stdout.on('data', d => (log += String(d)))
      child.stderr.on('data', d => (log += String(d)))
      child.on('close', code => {
        // Kept beside the run, for a person reading a failure.
        writeFileSync(join(work, `act-${event}-${runId}.log`), log)
        resolve({ code, log })
      })
    })
  }

  const repository = {
    name: 'greeter',
    full_name: 'acme/greeter',
    default_branch: 'main',
    owner: { login: 'acme' }
  }
  const workflowRun = () => ({
    action: 'completed',
    workflow_run: {
      id: RUN_ID,
      name: 'coverage',
      event: 'pull_request',
      status: 'completed',
      conclusion: 'success',
      head_sha: head,
      head_branch: 'jitter',
      head_repository: { full_name: 'fork/greeter' },
      pull_requests: []
    },
    repository
  })

  it('the test job uploads the comment and writes nothing to GitHub; the workflow_run job posts it', async () => {
    seen = []
    resultsCalls = []
    const test = await runAct(
      'pull_request',
      'coverage-fork.yml',
      {
        action: 'synchronize',
        number: 42,
        pull_request: {
          number: 42,
          head: { sha: head, ref: 'jitter', repo: { full_name: 'fork/greeter' } },
          base: { sha: base, ref: 'main', repo: { full_name: 'acme/greeter' } }
        },
        repository
      },
      RUN_ID
    )
    expect({ code: test.code, tail: test.log.slice(-3000) }).toEqual({ code: 0, tail: expect.any(String) })
    expect(test.log).toContain(`artifact ${ARTIFACT} (id 9001`)
    expect(resultsCalls).toEqual(['CreateArtifact', 'FinalizeArtifact'])
    // A zip holding the comment file.
    expect(zips.get(`${RUN_ID}/${ARTIFACT}`)!.subarray(0, 2).toString()).toBe('PK')
    // The test job holds no write token and made no GitHub REST API call at all.
    expect(seen).toEqual([])

    const comment = await runAct('workflow_run', 'coverage-comment.yml', workflowRun(), RUN_ID + 1)
    expect({ code: comment.code, tail: comment.log.slice(-3000) }).toEqual({
      code: 0,
      tail: expect.any(String)
    })
    expect(seen.map(s => `${s.method} ${s.path}`)).toEqual([
      `GET /repos/acme/greeter/actions/runs/${RUN_ID}/artifacts`,
      'GET /repos/acme/greeter/actions/artifacts/9001/zip',
      `GET /blob/${RUN_ID}.zip`,
      'GET /repos/acme/greeter/pulls/42',
      'GET /user',
      'GET /repos/acme/greeter/issues/42/comments',
      'POST /repos/acme/greeter/issues/42/comments'
    ])
    expect(comments).toHaveLength(1)
    const body = comments[0]!.body
    expect(body.split('\n')[0]).toBe('<!-- otlp-deploy-actions/test-coverage:coverage/test -->')
    expect(body).toContain('| Changed lines | 83.33% | 10 / 12 |')
    expect(body).toContain(`https://github.com/acme/greeter/blob/${head}/app/src/retry.mjs#L`)
    expect(comment.log).not.toContain(TOKEN)
  })

  it('refuses the artifact once the pull request has moved on to another commit, and posts nothing', async () => {
    seen = []
    pullHead = 'e'.repeat(40)
    const before = comments.length
    const r = await runAct('workflow_run', 'coverage-comment.yml', workflowRun(), RUN_ID + 2)
    pullHead = head
    expect(r.code).not.toBe(0)
    expect(r.log).toContain(
      `pull request #42's head is eeeeeee, not ${head.slice(0, 7)}, the commit the workflow run tested`
    )
    expect(seen.filter(s => s.method !== 'GET')).toEqual([])
    expect(comments).toHaveLength(before)
  })
})
