// Keyless cluster credentials end to end: the rollout bundle authenticates to the test bed's API
// server with the job's GitHub Actions OIDC token (`kube-oidc-audience`). The API server trusts the
// test bed's issuer standing in for GitHub's through its structured JWT authenticator, which maps
// the claims to the user `gha:<repository>:<environment>` that a RoleBinding here lets deploy. Only
// the runner's token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) is played by this test: it signs each
// token with that issuer's key (testbed/auth/authd.mjs mint-gha), with a short lifetime, so the
// action must ask for a new one before a slow release ends.
import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { REPO_ROOT, leaksSecret, runAction } from '../harness/runner.js'
import { kubectl, requireTestbed, testNamespaces, webDeployment } from './testbed.js'

jest.setTimeout(600_000)
const tb = requireTestbed(
  'KUBECONFIG',
  'KUBECTL',
  'TESTBED_AUTH_CLI',
  'TESTBED_AUTH_DIR',
  'TESTBED_AUTH_URL',
  'TESTBED_GHA_AUDIENCE'
)
const namespace = testNamespaces('oidc')
const REQUEST_TOKEN = 'runner-request-token-0123456789abcdef'

/** The test bed's cluster, with a user that has no credentials at all. */
function clusterOnlyKubeconfig(ns: string): string {
  const admin = parse(readFileSync(tb.KUBECONFIG!, 'utf8')) as {
    clusters: { name: string; cluster: object }[]
  }
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [admin.clusters[0]],
    users: [{ name: 'github-actions', user: {} }],
    contexts: [
      { name: 'ci', context: { cluster: admin.clusters[0]!.name, user: 'github-actions', namespace: ns } }
    ],
    'current-context': 'ci'
  })
}

describe('the rollout with the job OIDC token (kube-oidc-audience)', () => {
  let server: Server
  let tokenUrl: string
  let issued: { audience: string; at: number }[]
  let ttl = 6

  beforeAll(async () => {
    // The runner's token endpoint, as @actions/core's getIDToken calls it.
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      if (req.headers.authorization !== `Bearer ${REQUEST_TOKEN}`) {
        res.writeHead(401).end()
        return
      }
      const audience = url.searchParams.get('audience') ?? ''
      issued.push({ audience, at: Date.now() })
      const jwt = execFileSync(
        process.execPath,
        [
          tb.TESTBED_AUTH_CLI!,
          'mint-gha',
          '--repository=example/otlp-service',
          '--environment=production',
          `--aud=${audience}`,
          `--ttl=${ttl}`
        ],
        {
          env: {
            ...process.env,
            TESTBED_AUTH_DIR: tb.TESTBED_AUTH_DIR,
            TESTBED_AUTH_URL: tb.TESTBED_AUTH_URL
          },
          encoding: 'utf8'
        }
      ).trim()
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: jwt }))
    })
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
    tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`
  })
  afterAll(() => new Promise<void>(r => server.close(() => r())))
  beforeEach(() => {
    issued = []
    ttl = 6
  })

  function deployerFor(ns: string, user: string): void {
    const rbac = readFileSync(
      join(REPO_ROOT, '__tests__/fixtures/workflows/deployer-rbac.yaml'),
      'utf8'
    ).replace(/name: deployer$/m, `name: ${JSON.stringify(user)}`)
    execFileSync(tb.KUBECTL!, ['--kubeconfig', tb.KUBECONFIG!, '-n', ns, 'apply', '-f', '-'], { input: rbac })
  }

  function rollout(
    ns: string,
    tag: string,
    behavior: string,
    inputs: Record<string, string> = {},
    env: Record<string, string> = {}
  ) {
    const dir = mkdtempSync(join(tmpdir(), 'oidc-'))
    writeFileSync(join(dir, 'app.yaml'), webDeployment(tag, behavior))
    return runAction({
      action: 'rollout',
      inputs: {
        manifests: dir,
        kubeconfig: clusterOnlyKubeconfig(ns),
        'kube-oidc-audience': tb.TESTBED_GHA_AUDIENCE!,
        timeout: '3m',
        ...inputs
      },
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: tokenUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN, ...env },
      timeoutMs: 400_000
    })
  }

  it('deploys as gha:<repository>:<environment>, asking for a new token once the short-lived one nears its expiry', async () => {
    const ns = namespace('ok')
    deployerFor(ns, 'gha:example/otlp-service:production')
    const first = await rollout(ns, 'v1', 'ready')
    expect({ exit: first.exitCode, log: first.exitCode === 0 ? '' : first.log.slice(-3000) }).toEqual({
      exit: 0,
      log: ''
    })
    expect(first.log).toContain(`GitHub Actions OIDC token (audience ${tb.TESTBED_GHA_AUDIENCE})`)
    expect(issued[0]!.audience).toBe(tb.TESTBED_GHA_AUDIENCE)

    // A release slower than a 3 s token: the smoke Job after the wait is created, watched and deleted
    // with another one.
    issued = []
    ttl = 3
    const jobDir = mkdtempSync(join(tmpdir(), 'oidc-job-'))
    writeFileSync(
      join(jobDir, 'smoke.yaml'),
      `apiVersion: batch/v1
kind: Job
metadata: {name: smoke}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: {testbed/behavior: ready}}
    spec:
      restartPolicy: Never
      containers:
      - name: check
        image: registry.testbed.invalid/curl:8
`
    )
    const slow = await rollout(ns, 'v2', 'slow-ready', { 'smoke-job': join(jobDir, 'smoke.yaml') })
    expect({ exit: slow.exitCode, log: slow.exitCode === 0 ? '' : slow.log.slice(-3000) }).toEqual({
      exit: 0,
      log: ''
    })
    expect(Number(slow.outputs.duration)).toBeGreaterThan(3)
    expect(slow.log).toContain('smoke job/smoke: complete')
    expect(issued.length).toBeGreaterThanOrEqual(2)
    // The next request after the old token neared its expiry came with a new one: the API server
    // refused none (a request sent again after a 401 is counted in this line).
    expect(slow.log).toMatch(/^\d+ API requests$/m)
    expect(
      kubectl('get', 'deployment/web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}')
    ).toBe('registry.testbed.invalid/otlp-deploy/web:v2')
    expect(leaksSecret(slow, REQUEST_TOKEN)).toBe(false)
  })

  it('a token the cluster does not map to a deployer is refused with the API server’s 403, naming what it may not do', async () => {
    const ns = namespace('denied')
    const r = await rollout(ns, 'v1', 'ready')
    expect(r.exitCode).toBe(1)
    expect(r.log).toMatch(/gha:example\/otlp-service:production/)
    expect(kubectl('get', 'deployments', '-n', ns, '-o', 'name')).toBe('')
  })

  it('without the job’s id-token permission it says what to grant, before changing anything', async () => {
    const ns = namespace('noperm')
    deployerFor(ns, 'gha:example/otlp-service:production')
    const r = await rollout(
      ns,
      'v1',
      'ready',
      {},
      { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' }
    )
    expect(r.exitCode).toBe(1)
    const error = r.annotations.filter(a => a.level === 'error').map(a => a.message)[0] ?? ''
    expect(error).toMatch(/OIDC token for audience otlp-deploy-testbed could not be had/)
    expect(error).toMatch(/permissions: id-token: write/)
    expect(kubectl('get', 'deployments', '-n', ns, '-o', 'name')).toBe('')
  })
})
