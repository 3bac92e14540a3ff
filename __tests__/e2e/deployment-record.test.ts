// GitHub deployment records of real releases: the rollout bundle, run as the runner runs it, against
// the test bed's control plane (kwok plays the kubelets), with GitHub's REST API played by a loopback
// server in the request and response shapes of its documentation ("Deployments", "Deployment
// statuses"). A good release, a rolled-back one, `rollback-to: last-success`, and a token that may
// not write deployments.
import { jest } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction, leaksSecret, type ActionRun } from '../harness/runner.js'
import { kubectl, requireTestbed, testNamespaces, webDeployment } from './testbed.js'

jest.setTimeout(600_000)
const tb = requireTestbed('KUBECONFIG', 'KUBECTL')
const namespace = testNamespaces('dr')
const TOKEN = 'ghs_deploymentRecordTokenForTheLoopback01'
const SHA = 'abcdef0123456789abcdef0123456789abcdef01'

interface Deployment {
  id: number
  sha: string
  ref: string
  environment: string
  payload: Record<string, unknown>
  description: string
  statuses: { id: number; state: string; description: string; log_url?: string; environment_url?: string }[]
}

describe('GitHub deployment records of rollouts on the test bed', () => {
  let server: Server
  let api: string
  let deployments: Deployment[]
  let requests: string[]
  let refuseWrites = false

  beforeAll(async () => {
    server = createServer((req, res) => void handle(req, res))
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>(r => server.close(() => r())))
  beforeEach(() => {
    requests = []
    refuseWrites = false
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = ''
    for await (const c of req) raw += String(c)
    const url = new URL(req.url ?? '/', api)
    requests.push(`${req.method} ${url.pathname}${url.search}`)
    const send = (status: number, data: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(data))
    }
    if (req.headers.authorization !== `token ${TOKEN}`) return send(401, { message: 'Bad credentials' })
    const base = '/repos/example/otlp-service/deployments'
    if (refuseWrites && req.method === 'POST')
      return send(403, { message: 'Resource not accessible by integration' })
    if (url.pathname === base && req.method === 'POST') {
      const body = JSON.parse(raw) as Omit<Deployment, 'id' | 'statuses' | 'sha'>
      const d: Deployment = { ...body, id: 1000 + deployments.length, sha: body.ref, statuses: [] }
      deployments.push(d)
      return send(201, {
        id: d.id,
        url: `${api}${base}/${d.id}`,
        sha: d.sha,
        ref: d.ref,
        environment: d.environment,
        payload: d.payload
      })
    }
    // Newest first, as GitHub lists them.
    if (url.pathname === base && req.method === 'GET') {
      const env = url.searchParams.get('environment')
      return send(
        200,
        [...deployments]
          .reverse()
          .filter(d => !env || d.environment === env)
          .map(d => ({ id: d.id, sha: d.sha, ref: d.ref, environment: d.environment, payload: d.payload }))
      )
    }
    const statuses = new RegExp(`^${base}/(\\d+)/statuses$`).exec(url.pathname)
    const d = statuses ? deployments.find(x => x.id === Number(statuses[1])) : undefined
    if (statuses && !d) return send(404, { message: 'Not Found' })
    if (d && req.method === 'POST') {
      const s = { id: d.statuses.length + 1, ...(JSON.parse(raw) as Omit<Deployment['statuses'][0], 'id'>) }
      d.statuses.push(s)
      return send(201, s)
    }
    if (d && req.method === 'GET') return send(200, [...d.statuses].reverse())
    send(404, { message: 'Not Found' })
  }

  function rollout(
    ns: string,
    inputs: Record<string, string>,
    files?: Record<string, string>
  ): Promise<ActionRun> {
    let manifests = ''
    if (files) {
      const dir = mkdtempSync(join(tmpdir(), 'dr-'))
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
      manifests = dir
    }
    return runAction({
      action: 'rollout',
      inputs: {
        ...(manifests ? { manifests } : {}),
        namespace: ns,
        timeout: '3m',
        'doom-grace': '20s',
        'github-token': TOKEN,
        ...inputs
      },
      env: { KUBECONFIG: tb.KUBECONFIG },
      github: { GITHUB_API_URL: api, GITHUB_SHA: SHA, GITHUB_RUN_ID: '77' },
      timeoutMs: 400_000
    })
  }

  const image = (ns: string) =>
    (
      JSON.parse(kubectl('get', 'deployment/web', '-n', ns, '-o', 'json')) as {
        spec: { template: { spec: { containers: { image: string }[] } } }
      }
    ).spec.template.spec.containers[0]!.image

  it('records a good release: the deployment with its images, then in_progress and success with the URLs', async () => {
    deployments = []
    const ns = namespace('good')
    const r = await rollout(
      ns,
      { environment: 'staging', 'environment-url': 'https://staging.example.com' },
      { 'app.yaml': webDeployment('v1', 'ready') }
    )
    expect({ exit: r.exitCode, log: r.exitCode === 0 ? '' : r.log.slice(-3000) }).toEqual({
      exit: 0,
      log: ''
    })
    expect(requests).toEqual([
      'POST /repos/example/otlp-service/deployments',
      'POST /repos/example/otlp-service/deployments/1000/statuses',
      'POST /repos/example/otlp-service/deployments/1000/statuses'
    ])
    const [d] = deployments
    expect(d).toMatchObject({
      ref: SHA,
      environment: 'staging',
      auto_merge: false,
      required_contexts: [],
      production_environment: false,
      payload: {
        schema: 'otlp-deploy-actions/deployment@1',
        images: { web: 'registry.testbed.invalid/otlp-deploy/web:v1' },
        workloads: ['deployment/web'],
        namespace: ns,
        previousRevision: ''
      }
    })
    expect(d!.statuses.map(s => [s.state, s.description])).toEqual([
      ['in_progress', 'deployment/web'],
      ['success', 'Released revision 1; verified']
    ])
    expect(d!.statuses[1]).toMatchObject({
      log_url: 'https://github.com/example/otlp-service/actions/runs/77',
      environment_url: 'https://staging.example.com'
    })
    expect(leaksSecret(r, TOKEN)).toBe(false)
  })

  it('records a rolled-back release as a failure that says so; rollback-to: last-success then redeploys the good images', async () => {
    deployments = []
    const ns = namespace('back')
    const good = await rollout(ns, { environment: 'staging' }, { 'app.yaml': webDeployment('v1', 'ready') })
    expect(good.exitCode).toBe(0)
    const bad = await rollout(
      ns,
      { environment: 'staging' },
      { 'app.yaml': webDeployment('v2', 'crashloop') }
    )
    expect(bad.exitCode).toBe(1)
    expect(bad.outputs.result).toBe('rolled-back')
    expect(deployments[1]!.statuses.map(s => s.state)).toEqual(['in_progress', 'failure'])
    expect(deployments[1]!.statuses[1]!.description).toMatch(/^Rolled back to revision 1: /)
    expect(deployments[1]!.payload).toMatchObject({
      images: { web: 'registry.testbed.invalid/otlp-deploy/web:v2' },
      previousRevision: '1'
    })

    // Someone pins v3 by hand; rollback-to finds deployment 1000 (the last success) and pins its image.
    kubectl('set', 'image', 'deployment/web', 'web=registry.testbed.invalid/otlp-deploy/web:v3', '-n', ns)
    requests = []
    const back = await rollout(ns, {
      environment: 'staging',
      workload: 'deployment/web',
      'rollback-to': 'last-success'
    })
    expect({ exit: back.exitCode, log: back.exitCode === 0 ? '' : back.log.slice(-3000) }).toEqual({
      exit: 0,
      log: ''
    })
    expect(image(ns)).toBe('registry.testbed.invalid/otlp-deploy/web:v1')
    expect(back.log).toContain(
      'rolling back to deployment 1000 (commit abcdef0): web=registry.testbed.invalid/otlp-deploy/web:v1'
    )
    expect(requests.slice(0, 3)).toEqual([
      'GET /repos/example/otlp-service/deployments?environment=staging&per_page=30',
      'GET /repos/example/otlp-service/deployments/1001/statuses?per_page=1',
      'GET /repos/example/otlp-service/deployments/1000/statuses?per_page=1'
    ])
    const last = deployments[2]!
    expect(last.description).toBe('Rollback to the last success: deployment/web')
    expect(last.statuses.map(s => s.state)).toEqual(['in_progress', 'success'])
  })

  it('the one-step action with rollback-to: last-success builds nothing and rolls the last good images out', async () => {
    deployments = []
    const ns = namespace('onestep')
    const good = await rollout(ns, { environment: 'staging' }, { 'app.yaml': webDeployment('v1', 'ready') })
    expect(good.exitCode).toBe(0)
    kubectl('set', 'image', 'deployment/web', 'web=registry.testbed.invalid/otlp-deploy/web:v9', '-n', ns)
    const r = await runAction({
      action: 'deploy',
      inputs: {
        containers: 'web',
        workload: 'deployment/web',
        namespace: ns,
        'rollback-to': 'last-success',
        environment: 'staging',
        'github-token': TOKEN,
        timeout: '3m'
      },
      env: { KUBECONFIG: tb.KUBECONFIG },
      github: { GITHUB_API_URL: api, GITHUB_SHA: SHA, GITHUB_RUN_ID: '78' },
      timeoutMs: 400_000
    })
    expect({ exit: r.exitCode, log: r.exitCode === 0 ? '' : r.log.slice(-3000) }).toEqual({
      exit: 0,
      log: ''
    })
    expect(image(ns)).toBe('registry.testbed.invalid/otlp-deploy/web:v1')
    // No build ran: no builder was looked for, nothing was pushed.
    expect(r.log).not.toMatch(/buildx|buildah|Build and push/i)
    expect(deployments.map(d => d.statuses.at(-1)!.state)).toEqual(['success', 'success'])
  })

  it('rollback-to without any successful deployment fails before changing anything', async () => {
    deployments = []
    const ns = namespace('none')
    const r = await rollout(ns, {
      environment: 'qa',
      workload: 'deployment/web',
      'rollback-to': 'last-success'
    })
    expect(r.exitCode).toBe(1)
    expect(r.annotations.filter(a => a.level === 'error').map(a => a.message.split('\n')[0])).toEqual([
      'rollback-to: last-success found no successful deployment of this suite to qa'
    ])
    expect(requests.filter(q => q.startsWith('POST'))).toEqual([])
  })

  it('a token that may not write deployments is a warning: the release itself succeeds', async () => {
    deployments = []
    refuseWrites = true
    const ns = namespace('refused')
    const r = await rollout(ns, {}, { 'app.yaml': webDeployment('v1', 'ready') })
    expect(r.exitCode).toBe(0)
    expect(r.outputs.result).toBe('success')
    expect(r.annotations.filter(a => a.level === 'warning').map(a => a.message)).toEqual([
      expect.stringMatching(
        /^GitHub deployment record skipped: the token may not write deployments of example\/otlp-service \(HTTP 403/
      )
    ])
  })
})
