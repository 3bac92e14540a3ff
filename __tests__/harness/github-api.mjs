#!/usr/bin/env node
// GitHub's part in the act runs (scripts/act-run.sh), on loopback, in the request and response shapes
// of GitHub's REST documentation:
//   - Deployments and deployment statuses (POST/GET /repos/{owner}/{repo}/deployments,
//     POST/GET /repos/{owner}/{repo}/deployments/{id}/statuses), newest first as GitHub lists them;
//   - the runner's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL, GET /_runner/idtoken?audience=),
//     which signs with the test bed's GitHub-issuer key (testbed/auth/authd.mjs mint-gha) for the
//     repository and environment given here, as GitHub's would for the job.
// Every other path answers 404 as GitHub does. GET /_state returns every deployment with its
// statuses, for the script's checks.
//
// node github-api.mjs --port-file F --token T --request-token R [--mint-cli authd.mjs
//   --repository OWNER/REPO --environment ENV]
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { parseArgs } from 'node:util'

const { values: opt } = parseArgs({
  options: {
    'port-file': { type: 'string' },
    token: { type: 'string' },
    'request-token': { type: 'string' },
    'mint-cli': { type: 'string' },
    repository: { type: 'string' },
    environment: { type: 'string' }
  }
})
if (!opt['port-file'] || !opt.token || !opt['request-token']) {
  console.error(
    'usage: github-api.mjs --port-file F --token T --request-token R [--mint-cli CLI --repository O/R --environment E]'
  )
  process.exit(2)
}

/** @type {{id: number, owner: string, repo: string, sha: string, ref: string, environment: string, description: string, payload: unknown, statuses: object[], created_at: string}[]} */
const deployments = []

const server = createServer((req, res) => {
  handle(req, res).catch(err => {
    console.error(`github-api: ${req.method} ${req.url}: ${err.stack ?? err}`)
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ message: String(err.message ?? err) }))
  })
})

async function handle(req, res) {
  let raw = ''
  for await (const chunk of req) raw += String(chunk)
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  const send = (status, data) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(data))
  }
  console.error(`github-api: ${req.method} ${url.pathname}${url.search}`)

  if (url.pathname === '/_state') return send(200, deployments)
  if (url.pathname === '/_runner/idtoken') {
    if (req.headers.authorization !== `Bearer ${opt['request-token']}`) return send(401, {})
    if (!opt['mint-cli']) return send(500, { message: 'no --mint-cli' })
    const value = execFileSync(
      process.execPath,
      [
        opt['mint-cli'],
        'mint-gha',
        `--repository=${opt.repository}`,
        `--environment=${opt.environment}`,
        `--aud=${url.searchParams.get('audience') ?? ''}`,
        '--ttl=300'
      ],
      { encoding: 'utf8' }
    ).trim()
    return send(200, { value })
  }

  if (
    req.headers.authorization !== `token ${opt.token}` &&
    req.headers.authorization !== `Bearer ${opt.token}`
  )
    return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' })
  const m = /^\/repos\/([^/]+)\/([^/]+)\/deployments(?:\/(\d+)\/statuses)?$/.exec(url.pathname)
  if (!m) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' })
  const [, owner, repo, id] = m
  const view = d => ({
    id: d.id,
    url: `http://${req.headers.host}/repos/${owner}/${repo}/deployments/${d.id}`,
    sha: d.sha,
    ref: d.ref,
    environment: d.environment,
    description: d.description,
    payload: d.payload,
    created_at: d.created_at
  })
  if (!id && req.method === 'POST') {
    const body = JSON.parse(raw)
    const d = {
      id: 1000 + deployments.length,
      owner,
      repo,
      sha: body.ref,
      ref: body.ref,
      environment: body.environment ?? 'production',
      description: body.description ?? '',
      payload: body.payload ?? {},
      statuses: [],
      created_at: new Date().toISOString()
    }
    deployments.push(d)
    return send(201, view(d))
  }
  if (!id && req.method === 'GET') {
    const env = url.searchParams.get('environment')
    const list = deployments
      .filter(d => d.owner === owner && d.repo === repo && (!env || d.environment === env))
      .reverse()
      .map(view)
    return send(200, list)
  }
  const d = deployments.find(x => x.id === Number(id) && x.owner === owner && x.repo === repo)
  if (!d) return send(404, { message: 'Not Found' })
  if (req.method === 'POST') {
    const status = { id: d.statuses.length + 1, ...JSON.parse(raw), created_at: new Date().toISOString() }
    d.statuses.push(status)
    // auto_inactive (default true) on a success: every earlier deployment to the same non-production
    // environment that had succeeded gets an `inactive` status, as GitHub documents.
    if (status.state === 'success' && status.auto_inactive !== false && d.environment !== 'production') {
      for (const other of deployments) {
        const last = other.statuses[other.statuses.length - 1]?.state
        if (
          other !== d &&
          other.owner === owner &&
          other.repo === repo &&
          other.environment === d.environment &&
          last === 'success'
        )
          other.statuses.push({
            id: other.statuses.length + 1,
            state: 'inactive',
            created_at: status.created_at
          })
      }
    }
    return send(201, status)
  }
  if (req.method === 'GET') return send(200, [...d.statuses].reverse())
  send(404, { message: 'Not Found' })
}
server.listen(0, '127.0.0.1', () => writeFileSync(opt['port-file'], String(server.address().port)))
