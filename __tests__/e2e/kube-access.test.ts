// Cluster access end to end: the rollout bundle, run as the runner runs it on Node 24, against the
// test bed's real API server, with the credentials and networks real clusters have. The API server
// trusts the test bed's stand-ins for cloud plug-ins (testbed/auth: a token webhook whose tokens
// expire in seconds, an OIDC issuer); proxies and a fault-injecting proxy run in this process.
import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { leaksSecret, runAction, type ActionRun } from '../harness/runner.js'
import { htmlErrorPage, startConnectProxy, startFaultProxy } from './net-fixtures.js'
import { kubectl, requireTestbed, testNamespaces } from './testbed.js'

jest.setTimeout(600_000)
const tb = requireTestbed(
  'KUBECONFIG',
  'KUBECTL',
  'TESTBED_APISERVER',
  'TESTBED_CA_FILE',
  'TESTBED_DIR',
  'TESTBED_AUTH_KEY',
  'TESTBED_AUTH_CLI',
  'TESTBED_EXEC_PLUGIN',
  'TESTBED_OIDC_ISSUER',
  'TESTBED_OIDC_CLIENT_ID',
  'TESTBED_OIDC_CLIENT_SECRET_FILE'
)
const CA_B64 = readFileSync(tb.TESTBED_CA_FILE!).toString('base64')
const PKI = join(tb.TESTBED_DIR!, 'pki')
const apiPort = new URL(tb.TESTBED_APISERVER!).port

const newNamespace = testNamespaces('ka')
/** A namespace in which USER may do everything a release needs (the namespace's admin role). */
function namespace(name: string, user?: string): string {
  const ns = newNamespace(name)
  if (user) kubectl('create', 'rolebinding', 'release', '-n', ns, '--clusterrole=admin', `--user=${user}`)
  return ns
}

/** A Deployment on the kwok nodes; `slow-ready` pods take ~5 s each, so 4 replicas take ~20 s. */
function deployment(
  behavior: string,
  tag: string,
  replicas = 4,
  strategy = '{rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}'
): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: ${replicas}
  strategy: ${strategy}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, release: ${tag}, testbed/behavior: ${behavior}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: web, image: "registry.testbed.invalid/ka/web:${tag}"}]
`
}

function manifest(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ka-'))
  writeFileSync(join(dir, 'app.yaml'), text)
  return join(dir, 'app.yaml')
}

function kubeconfig(server: string, user: string, cluster = `certificate-authority-data: ${CA_B64}`): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: testbed
  cluster:
    server: ${server}
    ${cluster}
users:
- name: u
  user:
${user
  .split('\n')
  .map(l => `    ${l}`)
  .join('\n')}
contexts:
- name: x
  context: {cluster: testbed, user: u}
current-context: x
`
}

const adminCert = () =>
  `client-certificate-data: ${readFileSync(join(PKI, 'admin.crt')).toString('base64')}\nclient-key-data: ${readFileSync(join(PKI, 'admin.key')).toString('base64')}`

async function release(
  ns: string,
  file: string,
  inputs: Record<string, string> = {},
  env: Record<string, string> = {},
  wrap?: string[]
): Promise<ActionRun> {
  return runAction({
    action: 'rollout',
    inputs: { manifests: file, namespace: ns, timeout: '3m', 'doom-grace': '20s', ...inputs },
    env,
    timeoutMs: 400_000,
    wrap
  })
}

/** The release before the test's, applied as the action applies (server-side, its field manager). */
function deployAsTheAction(ns: string, yaml: string): void {
  kubectl('apply', '-n', ns, '--server-side', '--field-manager=otlp-deploy-actions', '-f', manifest(yaml))
}

const requestsOf = (r: ActionRun) => Number(/(\d+) API requests/.exec(r.log)?.[1] ?? NaN)
const templateRelease = (ns: string) =>
  kubectl('get', 'deployment/web', '-n', ns, '-o', 'jsonpath={.spec.template.metadata.labels.release}')

describe('exec credential plugins whose tokens expire in seconds', () => {
  it('keeps a failing release and its rollback authenticated over many token lifetimes, one plugin run per lifetime', async () => {
    const user = `exec-${process.pid}`
    const ns = namespace('exec', user)
    // Recreate: the release replaces every pod, and the rollback brings back four slow-ready ones.
    const recreate = '{type: Recreate}'
    deployAsTheAction(ns, deployment('slow-ready', 'v1', 4, recreate))
    kubectl('rollout', 'status', '-n', ns, 'deployment/web', '--timeout=120s')
    const runs = join(mkdtempSync(join(tmpdir(), 'exec-log-')), 'runs.jsonl')
    const ttl = 2
    const kc = kubeconfig(
      tb.TESTBED_APISERVER!,
      `exec:
  apiVersion: client.authentication.k8s.io/v1
  interactiveMode: Never
  command: ${tb.TESTBED_EXEC_PLUGIN}
  args: [--user=${user}]
  env:
  - {name: TESTBED_AUTH_KEY, value: ${tb.TESTBED_AUTH_KEY}}
  - {name: TB_TOKEN_TTL, value: "${ttl}"}
  - {name: TB_EXEC_LOG, value: ${runs}}`
    )
    const run = await release(ns, manifest(deployment('crashloop', 'v2', 4, recreate)), { kubeconfig: kc })
    expect(run.outputs.result).toBe('rolled-back')
    expect(run.exitCode).toBe(1)
    expect(templateRelease(ns)).toBe('v1')
    const seconds = run.durationMs / 1000
    const pluginRuns = readFileSync(runs, 'utf8').trim().split('\n').length
    // The crash loop and the rollback to 4 slow-ready pods outlast several lifetimes.
    expect(seconds).toBeGreaterThan(3 * ttl)
    // The first token expired during the release: the plugin ran again when a request needed it
    // (an open watch stays authenticated), at most once per lifetime (renewed a fifth early), and
    // never once per request.
    expect(pluginRuns).toBeGreaterThanOrEqual(2)
    expect(pluginRuns).toBeLessThanOrEqual(Math.ceil(seconds / (ttl * 0.8)) + 1)
    expect(pluginRuns).toBeLessThan(requestsOf(run) / 2)
    expect(run.log).toMatch(/exec plugin .*exec-plugin\.mjs \(v1\)/)
    expect(run.log).not.toMatch(/Unauthorized/)
  })

  it('says what failed when the plugin fails, with its stderr', async () => {
    const ns = namespace('exec-fail')
    const kc = kubeconfig(
      tb.TESTBED_APISERVER!,
      `exec:
  apiVersion: client.authentication.k8s.io/v1beta1
  command: ${tb.TESTBED_EXEC_PLUGIN}
  installHint: 'the test bed plug-in: testbed/auth/exec-plugin.mjs'
  env: [{name: TB_EXEC_FAIL, value: "1"}]`
    )
    const run = await release(ns, manifest(deployment('ready', 'v1', 1)), { kubeconfig: kc })
    expect(run.exitCode).toBe(1)
    expect(run.outputs['failure-reason']).toMatch(
      /exec credential plugin of user u .* failed \(exit code 1\): testbed exec plugin: TB_EXEC_FAIL=1/
    )
  })
})

describe('where the configuration comes from', () => {
  it('reads ~/.kube/config when neither the input nor KUBECONFIG is given', async () => {
    const ns = namespace('home')
    const home = mkdtempSync(join(tmpdir(), 'home-'))
    mkdirSync(join(home, '.kube'))
    writeFileSync(join(home, '.kube', 'config'), readFileSync(tb.KUBECONFIG!))
    const run = await release(ns, manifest(deployment('ready', 'v1', 1)), {}, { HOME: home })
    expect(run.exitCode).toBe(0)
    expect(run.log).toContain(`from ${join(home, '.kube', 'config')}`)
  })

  it('uses the service account of a pod, reading its rotated token file after the old token is revoked', async () => {
    const ns = namespace('incluster')
    kubectl('create', 'serviceaccount', 'deployer', '-n', ns)
    kubectl('create', 'rolebinding', 'sa', '-n', ns, '--clusterrole=admin', `--serviceaccount=${ns}:deployer`)
    kubectl('create', 'secret', 'generic', 'token-a', '-n', ns)
    const token = (secret: string) =>
      kubectl(
        'create',
        'token',
        'deployer',
        '-n',
        ns,
        '--bound-object-kind=Secret',
        `--bound-object-name=${secret}`
      ).trim()
    const sa = mkdtempSync(join(tmpdir(), 'sa-'))
    writeFileSync(join(sa, 'token'), token('token-a'))
    writeFileSync(join(sa, 'ca.crt'), readFileSync(tb.TESTBED_CA_FILE!))
    writeFileSync(join(sa, 'namespace'), ns)
    deployAsTheAction(ns, deployment('ready', 'v1'))
    // The pod's view: the service account folder at its fixed path, in a mount namespace of the run's own.
    const mountAt = '/run/secrets/kubernetes.io/serviceaccount'
    const wrap = [
      'unshare',
      '--mount',
      '--propagation=private',
      'sh',
      '-c',
      `mount -t tmpfs tmpfs /run && mkdir -p ${mountAt} && mount --bind ${sa} ${mountAt} && exec "$@"`,
      'sh'
    ]
    const pending = release(
      ns,
      manifest(deployment('slow-ready', 'v2')),
      {},
      {
        HOME: mkdtempSync(join(tmpdir(), 'nohome-')),
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: apiPort
      },
      wrap
    )
    // Mid-wait, the kubelet rotates the token; the old one stops working when its Secret goes.
    await new Promise(r => setTimeout(r, 6000))
    kubectl('create', 'secret', 'generic', 'token-b', '-n', ns)
    writeFileSync(join(sa, 'token'), token('token-b'))
    kubectl('delete', 'secret', 'token-a', '-n', ns)
    const run = await pending
    expect(run.outputs.result).toBe('success')
    expect(run.exitCode).toBe(0)
    expect(run.log).toContain('from the in-cluster service account')
    expect(templateRelease(ns)).toBe('v2')
  })

  it('refreshes an expired OIDC id-token with its refresh token at the issuer', async () => {
    const user = `oidc-${process.pid}`
    const ns = namespace('oidc', `oidc:${user}`)
    const minted = JSON.parse(
      execFileSync(process.execPath, [tb.TESTBED_AUTH_CLI!, 'mint-oidc', user, '--ttl=1'], {
        encoding: 'utf8',
        env: { ...process.env, ...tb }
      })
    ) as { id_token: string; refresh_token: string }
    await new Promise(r => setTimeout(r, 2000)) // the id-token has expired
    const kc = kubeconfig(
      tb.TESTBED_APISERVER!,
      `auth-provider:
  name: oidc
  config:
    idp-issuer-url: ${tb.TESTBED_OIDC_ISSUER}
    client-id: ${tb.TESTBED_OIDC_CLIENT_ID}
    client-secret: ${readFileSync(tb.TESTBED_OIDC_CLIENT_SECRET_FILE!, 'utf8').trim()}
    idp-certificate-authority-data: ${CA_B64}
    id-token: ${minted.id_token}
    refresh-token: ${minted.refresh_token}`
    )
    const run = await release(ns, manifest(deployment('ready', 'v1', 1)), { kubeconfig: kc })
    expect(run.outputs['failure-reason']).toBe('')
    expect(run.outputs.result).toBe('success')
    expect(leaksSecret(run, minted.refresh_token)).toBe(false)
  })
})

describe('impersonation', () => {
  it('applies the impersonated deployer’s rights, not the admin’s', async () => {
    const ns = namespace('as')
    // The deployer may read but not create Deployments here.
    kubectl('create', 'rolebinding', 'view', '-n', ns, '--clusterrole=view', '--user=deployer')
    const kc = kubeconfig(tb.TESTBED_APISERVER!, `${adminCert()}\nas: deployer`)
    const run = await release(ns, manifest(deployment('ready', 'v1', 1)), { kubeconfig: kc })
    expect(run.exitCode).toBe(1)
    expect(run.outputs['failure-reason']).toMatch(
      /may not (patch|create) deployments\.apps in namespace ka-as-/
    )
    expect(kubectl('get', 'deployments', '-n', ns, '-o', 'name').trim()).toBe('')
    // The same kubeconfig without `as` (the admin) may.
    const admin = await release(ns, manifest(deployment('ready', 'v1', 1)), {
      kubeconfig: kubeconfig(tb.TESTBED_APISERVER!, adminCert())
    })
    expect(admin.exitCode).toBe(0)
  })
})

describe('proxies', () => {
  it('sends every API request through the cluster’s proxy-url', async () => {
    const ns = namespace('proxyurl')
    const proxy = await startConnectProxy()
    try {
      const kc = kubeconfig(
        tb.TESTBED_APISERVER!,
        adminCert(),
        `certificate-authority-data: ${CA_B64}\n    proxy-url: ${proxy.url}`
      )
      const run = await release(ns, manifest(deployment('ready', 'v1', 2)), { kubeconfig: kc })
      expect(run.exitCode).toBe(0)
      const tunnels = proxy.requests.filter(
        r => r.method === 'CONNECT' && r.target === `127.0.0.1:${apiPort}`
      )
      expect(tunnels.length).toBeGreaterThanOrEqual(requestsOf(run))
      expect(run.log).toMatch(/via proxy http:\/\/127\.0\.0\.1:\d+/)
    } finally {
      await proxy.close()
    }
  })

  it('takes HTTPS_PROXY for the API server and the smoke test, and NO_PROXY bypasses it', async () => {
    const ns = namespace('envproxy')
    // Names that only the proxy resolves (to loopback): Go, and so this action, never proxies a
    // loopback address itself. The API server's certificate is valid for kubernetes.default.svc.
    const proxy = await startConnectProxy({
      hosts: { 'kubernetes.default.svc': '127.0.0.1', 'app.testbed.invalid': '127.0.0.1' }
    })
    const health = createServer((_, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
    )
    await new Promise<void>(r => health.listen(0, '127.0.0.1', r))
    const healthPort = (health.address() as AddressInfo).port
    try {
      const kc = kubeconfig(`https://kubernetes.default.svc:${apiPort}`, adminCert())
      const run = await release(
        ns,
        manifest(deployment('ready', 'v1', 1)),
        {
          kubeconfig: kc,
          'smoke-url': `http://app.testbed.invalid:${healthPort}/health`,
          'smoke-expect': 'json:status=ok'
        },
        { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url }
      )
      expect(run.exitCode).toBe(0)
      expect(run.log).toContain('(from the environment)')
      const api = proxy.requests.filter(
        r => r.method === 'CONNECT' && r.target === `kubernetes.default.svc:${apiPort}`
      )
      expect(api.length).toBeGreaterThanOrEqual(requestsOf(run))
      expect(
        proxy.requests.some(r => r.method === 'GET' && r.target === `app.testbed.invalid:${healthPort}`)
      ).toBe(true)
      // NO_PROXY names the API server: the action goes direct, where the name does not resolve.
      const before = proxy.requests.length
      const direct = await release(
        ns,
        manifest(deployment('ready', 'v1', 1)),
        { kubeconfig: kc },
        {
          HTTPS_PROXY: proxy.url,
          NO_PROXY: '.svc'
        }
      )
      expect(direct.exitCode).toBe(1)
      expect(direct.outputs['failure-reason']).toMatch(/cannot reach the API server .*(ENOTFOUND|EAI_AGAIN)/)
      expect(proxy.requests.length).toBe(before)
    } finally {
      health.close()
      await proxy.close()
    }
  })
})

describe('what the API server (or what stands in front of it) answers', () => {
  const faultProxy = (rules: Parameters<typeof startFaultProxy>[1]['rules']) =>
    startFaultProxy(new URL(tb.TESTBED_APISERVER!), {
      certFile: join(PKI, 'kube-apiserver.crt'),
      keyFile: join(PKI, 'kube-apiserver.key'),
      caFile: tb.TESTBED_CA_FILE!,
      clientCertFile: join(PKI, 'admin.crt'),
      clientKeyFile: join(PKI, 'admin.key'),
      rules
    })

  it('backs off watches that a proxy closes at once: under 40 requests in 30 s', async () => {
    const ns = namespace('closing')
    const proxy = await faultProxy([{ match: { kind: 'watch' }, fault: { type: 'end-watch' } }])
    try {
      const run = await release(ns, manifest(deployment('never-ready', 'v1', 1)), {
        kubeconfig: kubeconfig(proxy.url, 'token: through-the-fault-proxy'),
        timeout: '30s',
        rollback: 'false'
      })
      expect(run.exitCode).toBe(1)
      expect(proxy.counts.watch).toBeGreaterThan(2)
      expect(proxy.counts.watch + proxy.counts.other).toBeLessThan(40)
    } finally {
      await proxy.close()
    }
  })

  it('waits out five 429s with Retry-After: 2 and succeeds', async () => {
    const ns = namespace('throttled')
    const proxy = await faultProxy([
      {
        match: { method: 'GET', path: /\/namespaces\/[^/]+\/deployments\/web$/ },
        fault: { type: 'throttle', retryAfterSeconds: 2 },
        times: 5
      }
    ])
    try {
      const run = await release(ns, manifest(deployment('ready', 'v1', 1)), {
        kubeconfig: kubeconfig(proxy.url, 'token: through-the-fault-proxy')
      })
      expect(run.outputs.result).toBe('success')
      expect(proxy.log.filter(e => e.fault === 'throttle')).toHaveLength(5)
      expect(run.durationMs).toBeGreaterThanOrEqual(10_000)
    } finally {
      await proxy.close()
    }
  })

  it('keeps a 100 KB HTML error page out of the annotation, the summary and failure-reason', async () => {
    const ns = namespace('html')
    const page = htmlErrorPage(502)
    const proxy = await faultProxy([
      { match: { method: 'PATCH' }, fault: { type: 'respond', status: 502, body: page } }
    ])
    try {
      const run = await release(ns, manifest(deployment('ready', 'v1', 1)), {
        kubeconfig: kubeconfig(proxy.url, 'token: through-the-fault-proxy')
      })
      expect(run.exitCode).toBe(1)
      expect(run.outputs['failure-reason']).toMatch(/HTTP 502 \(text\/html, \d+ bytes\): 502 Bad Gateway/)
      expect(run.outputs['failure-reason']!.length).toBeLessThan(500)
      for (const a of run.annotations) expect(a.message.length).toBeLessThan(2000)
      expect(run.summary.length).toBeLessThan(10_000)
      expect(run.rawLog).not.toContain('x'.repeat(1000))
    } finally {
      await proxy.close()
    }
  })
})
