// The rollout action end to end: the committed bundle, run as the runner runs it, against the test
// bed's real control plane (kwok plays the kubelets; pods behave as their `testbed/behavior` label
// says). Each test works in its own namespace. Rebuild first: node scripts/build.mjs rollout.
import { jest } from '@jest/globals'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT, leaksSecret, runAction, type ActionRun } from '../harness/runner.js'
import { kubectl, requireTestbed, testNamespaces } from './testbed.js'

jest.setTimeout(600_000)
const tb = requireTestbed('KUBECONFIG', 'KUBECONFIG_DEPLOYER', 'KUBECTL')
const run = promisify(execFile)

function kubectlInput(input: string, ...args: string[]): string {
  return execFileSync(tb.KUBECTL!, ['--kubeconfig', tb.KUBECONFIG!, ...args], { input, encoding: 'utf8' })
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubectl JSON, read field by field
function json<T = Record<string, any>>(...args: string[]): T {
  return JSON.parse(kubectl('get', ...args, '-o', 'json')) as T
}

const namespace = testNamespaces('ro')

interface WorkloadSpec {
  kind?: 'Deployment' | 'StatefulSet' | 'DaemonSet'
  name?: string
  replicas?: number
  behavior?: string
  tag?: string
  progressDeadlineSeconds?: number
  strategy?: string
  extraDocs?: string
}

function workloadYaml(w: WorkloadSpec): string {
  const kind = w.kind ?? 'Deployment'
  const name = w.name ?? 'web'
  const replicas = kind === 'DaemonSet' ? '' : `  replicas: ${w.replicas ?? 2}\n`
  const deadline =
    kind === 'Deployment' ? `  progressDeadlineSeconds: ${w.progressDeadlineSeconds ?? 600}\n` : ''
  const svc = kind === 'StatefulSet' ? `  serviceName: ${name}\n` : ''
  const strategy = w.strategy ?? ''
  return `apiVersion: apps/v1
kind: ${kind}
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
${replicas}${deadline}${svc}${strategy}  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}, testbed/behavior: ${w.behavior ?? 'ready'}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: ${name}
        image: registry.testbed.invalid/otlp-deploy/${name}:${w.tag ?? 'v1'}
        ports: [{containerPort: 8080, name: http}]
${w.extraDocs ? `---\n${w.extraDocs}` : ''}`
}

function manifestDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-e2e-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

async function rollout(
  ns: string,
  files: Record<string, string>,
  inputs: Record<string, string> = {},
  env: Record<string, string> = {}
): Promise<ActionRun> {
  const dir = manifestDir(files)
  return runAction({
    action: 'rollout',
    inputs: { manifests: dir, namespace: ns, timeout: '3m', 'doom-grace': '20s', ...inputs },
    env: { KUBECONFIG: tb.KUBECONFIG, ...env },
    timeoutMs: 400_000
  })
}

function explain(r: ActionRun): string {
  return `exit ${r.exitCode}\noutputs ${JSON.stringify(r.outputs, null, 1)}\nlog:\n${r.log.slice(-6000)}`
}

function image(ns: string, kind = 'deployment', name = 'web'): string {
  return json(`${kind}/${name}`, '-n', ns).spec.template.spec.containers[0].image as string
}

async function healthServer(
  answer: (n: number) => [number, string]
): Promise<{ url: string; server: Server; calls: () => number }> {
  let n = 0
  const server = createServer((_, res) => {
    const [status, body] = answer(++n)
    res.writeHead(status, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`, server, calls: () => n }
}

/** A first, healthy release (v1) so that a second one has something to roll back to. */
async function firstRelease(ns: string, w: WorkloadSpec = {}): Promise<void> {
  const r = await rollout(ns, { 'app.yaml': workloadYaml({ ...w, tag: 'v1', behavior: 'ready' }) })
  expect({ result: r.outputs.result, log: r.exitCode === 0 ? '' : explain(r) }).toEqual({
    result: 'success',
    log: ''
  })
}

describe('rollout on the test bed', () => {
  it('rolls out a good release, smoke-tests it and reports revisions, timeline and objects', async () => {
    const ns = namespace('good')
    const health = await healthServer(() => [200, '{"status":"ok"}'])
    try {
      const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: info}\n`
      let r = await rollout(ns, { 'app.yaml': workloadYaml({ replicas: 3 }), 'cm.yaml': cm })
      expect(r.exitCode).toBe(0)
      expect(r.outputs).toMatchObject({
        result: 'success',
        revision: '1',
        'previous-revision': '',
        'rolled-back': 'false',
        'failure-reason': ''
      })
      r = await rollout(
        ns,
        { 'app.yaml': workloadYaml({ replicas: 3, tag: 'v2', behavior: 'slow-ready' }), 'cm.yaml': cm },
        {
          'smoke-url': health.url,
          'smoke-expect': 'json:status=ok'
        }
      )
      expect(r.exitCode).toBe(0)
      expect(r.outputs).toMatchObject({
        result: 'success',
        revision: '2',
        'previous-revision': '1',
        'rolled-back': 'false'
      })
      expect(JSON.parse(r.outputs.applied!)).toEqual(
        expect.arrayContaining([
          { kind: 'ConfigMap', namespace: ns, name: 'settings', action: 'unchanged' },
          { kind: 'Deployment', namespace: ns, name: 'web', action: 'configured' }
        ])
      )
      expect(image(ns)).toMatch(/:v2$/)
      expect(health.calls()).toBeGreaterThanOrEqual(1)
      // Progress lines while waiting, not silence.
      expect(r.log).toMatch(/deployment\/web: \d\/3 updated, \d\/3 ready, \d\/3 available/)
      expect(r.summary).toContain('Release succeeded')
      expect(r.summary).toMatch(/\| Deployment \| ro-good-\S+ \| web \| configured \|/)
      expect(r.summary).toContain('```mermaid\ngantt')
      expect(r.summary).toMatch(/\| smoke test \|/)
    } finally {
      health.server.close()
    }
  })

  it.each([
    ['crashloop', /CrashLoopBackOff|exited with code 1/],
    ['image-pull-error', /ErrImagePull|ImagePullBackOff/],
    ['never-ready', /NotReady/]
  ])('rolls back a %s release long before the progress deadline', async (behavior, reason) => {
    const ns = namespace(behavior)
    await firstRelease(ns)
    const inputs: Record<string, string> = behavior === 'never-ready' ? { 'doom-grace': '8s' } : {}
    const r = await rollout(ns, { 'app.yaml': workloadYaml({ tag: 'v2', behavior }) }, inputs)
    expect(r.exitCode).toBe(1)
    expect(r.outputs).toMatchObject({
      result: 'rolled-back',
      'rolled-back': 'true',
      revision: '2',
      'previous-revision': '1'
    })
    expect(r.outputs['failure-reason']).toMatch(reason)
    expect(Number(r.outputs.duration)).toBeLessThan(90)
    expect(image(ns)).toMatch(/:v1$/)
    const d = json(`deployment/web`, '-n', ns)
    expect(d.status.updatedReplicas).toBe(2)
    expect(d.status.availableReplicas).toBe(2)
    // The step fails with the verdict, and the summary holds the diagnostics a person needs.
    const errors = r.annotations.filter(a => a.level === 'error').map(a => a.message)
    expect(errors.join('\n')).toMatch(/rolled back/)
    expect(r.summary).toContain('Diagnostics: Deployment/web')
    expect(r.summary).toMatch(reason)
    expect(r.summary).toContain('Recent events')
    expect(r.log).toMatch(/roll back deployment "web" to revision 1/)
    if (behavior === 'crashloop') {
      // The next release applies over the fields the rollback wrote, without force-conflicts.
      const next = await rollout(ns, { 'app.yaml': workloadYaml({ tag: 'v3' }) })
      expect({ result: next.outputs.result, log: next.exitCode === 0 ? '' : explain(next) }).toEqual({
        result: 'success',
        log: ''
      })
      expect(next.log).toContain('took back fields our previous rollback wrote')
      expect(image(ns)).toMatch(/:v3$/)
    }
  })

  it('rolls back a release whose smoke test fails, and smoke-tests the previous revision', async () => {
    const ns = namespace('smoke')
    await firstRelease(ns)
    // Fails the two attempts made against the new release, then answers 200.
    const health = await healthServer(n => (n <= 2 ? [500, '{"status":"down"}'] : [200, '{"status":"ok"}']))
    try {
      const r = await rollout(
        ns,
        { 'app.yaml': workloadYaml({ tag: 'v2' }) },
        { 'smoke-url': health.url, 'smoke-retries': '2', 'smoke-timeout': '20s' }
      )
      expect(r.exitCode).toBe(1)
      expect(r.outputs).toMatchObject({ result: 'rolled-back', 'rolled-back': 'true' })
      expect(r.outputs['failure-reason']).toMatch(/^smoke test failed: .*HTTP 500/)
      expect(health.calls()).toBe(3)
      expect(image(ns)).toMatch(/:v1$/)
      expect(r.summary).toMatch(/smoke test after rollback \| \S+ \| \S+ \| ✅ ok/)
    } finally {
      health.server.close()
    }
  })

  it('runs a smoke Job in the cluster; when it fails, rolls back and says plainly that the previous revision fails too', async () => {
    const ns = namespace('smoke-job')
    await firstRelease(ns)
    const job = (behavior: string, deadline: string) => `apiVersion: batch/v1
kind: Job
metadata: {name: smoke-test}
spec:
  backoffLimit: 0
${deadline}  template:
    metadata: {labels: {testbed/behavior: ${behavior}}}
    spec:
      restartPolicy: Never
      containers:
      - name: curl
        image: registry.testbed.invalid/curl:8
        args: [curl, -f, http://web:8080/health]
`
    const jobs = manifestDir({
      'ok.yaml': job('ready', ''),
      // The pod never starts; the Job fails when its deadline passes.
      'bad.yaml': job('image-pull-error', '  activeDeadlineSeconds: 4\n')
    })
    let r = await rollout(
      ns,
      { 'app.yaml': workloadYaml({ tag: 'v2' }) },
      { 'smoke-job': join(jobs, 'ok.yaml') }
    )
    expect({ result: r.outputs.result, log: r.exitCode === 0 ? '' : explain(r) }).toEqual({
      result: 'success',
      log: ''
    })
    expect(r.log).toContain('smoke job/smoke-test: complete')
    r = await rollout(
      ns,
      { 'app.yaml': workloadYaml({ tag: 'v3' }) },
      { 'smoke-job': join(jobs, 'bad.yaml') }
    )
    expect(r.exitCode).toBe(1)
    expect(r.outputs.result).toBe('failed')
    expect(r.outputs['failure-reason']).toMatch(
      /^smoke test failed: job\/smoke-test: the Job failed: DeadlineExceeded/
    )
    expect(r.log).toMatch(/roll back deployment "web" to revision 2/)
    expect(r.log).toMatch(
      /A person must act: the rollback completed, but the restored previous revision fails the smoke test too/
    )
    expect(r.outputs['rolled-back']).toBe('true')
    expect(image(ns)).toMatch(/:v2$/)
  })

  it('fails fast when one of three new pods is doomed, naming that pod', async () => {
    const ns = namespace('one-of-three')
    await firstRelease(ns, { replicas: 3 })
    // All three new pods at once; they need ~5 s to get Ready, and one is made to crash-loop.
    const strategy = '  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 3, maxUnavailable: 0}}\n'
    const pending = rollout(ns, {
      'app.yaml': workloadYaml({ replicas: 3, tag: 'v2', behavior: 'slow-ready', strategy })
    })
    let victim = ''
    for (let i = 0; i < 100 && !victim; i++) {
      await new Promise(r => setTimeout(r, 200))
      const pods = json<{
        items: { metadata: { name: string }; status?: { containerStatuses?: unknown[] } }[]
      }>('pods', '-n', ns, '-l', 'testbed/behavior=slow-ready')
      victim = pods.items.find(p => p.status?.containerStatuses)?.metadata.name ?? ''
    }
    expect(victim).not.toBe('')
    const crash = {
      status: {
        containerStatuses: [
          {
            name: 'web',
            image: 'registry.testbed.invalid/otlp-deploy/web:v2',
            imageID: '',
            ready: false,
            started: false,
            restartCount: 3,
            state: {
              waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=web' }
            },
            lastState: {
              terminated: {
                exitCode: 2,
                reason: 'Error',
                startedAt: '2026-01-01T00:00:00Z',
                finishedAt: '2026-01-01T00:00:01Z'
              }
            }
          }
        ]
      }
    }
    kubectl(
      'patch',
      'pod',
      victim,
      '-n',
      ns,
      '--subresource=status',
      '--type=strategic',
      '-p',
      JSON.stringify(crash)
    )
    const r = await pending
    expect(r.outputs.result).toBe('rolled-back')
    expect(r.outputs['failure-reason']).toContain(`pod ${victim} is doomed: CrashLoopBackOff`)
    expect(image(ns)).toMatch(/:v1$/)
  })

  it('treats a release of several workloads as one: the first failure stops the wait and rolls back every changed one', async () => {
    const ns = namespace('multi')
    const release = (tag: string, api: string, worker: string) => ({
      'api.yaml': workloadYaml({ name: 'api', tag, behavior: api }),
      'worker.yaml': workloadYaml({ name: 'worker', tag, behavior: worker })
    })
    let r = await rollout(ns, release('v1', 'ready', 'ready'))
    expect({ result: r.outputs.result, log: r.exitCode === 0 ? '' : explain(r) }).toEqual({
      result: 'success',
      log: ''
    })
    // api crash-loops at once; worker would need ~5 s per pod and is not waited for.
    r = await rollout(ns, release('v2', 'crashloop', 'slow-ready'))
    expect(r.outputs).toMatchObject({ result: 'rolled-back', 'rolled-back': 'true' })
    expect(r.outputs['failure-reason']).toMatch(
      /^deployment\/api: pod api-\S+ is doomed: (CrashLoopBackOff|Error)/
    )
    expect(r.summary).toMatch(
      /\| Deployment\/worker \| 1 \| 2 \| (stopped \(another part of the release failed\)|complete)/
    )
    expect(image(ns, 'deployment', 'api')).toMatch(/:v1$/)
    expect(image(ns, 'deployment', 'worker')).toMatch(/:v1$/)
  })

  it('refuses to take over fields another manager owns unless force-conflicts is set', async () => {
    const ns = namespace('conflict')
    const dir = manifestDir({ 'v1.yaml': workloadYaml({ tag: 'v1' }) })
    kubectl('apply', '-n', ns, '-f', join(dir, 'v1.yaml'))
    kubectl('rollout', 'status', '-n', ns, 'deployment/web', '--timeout=60s')
    let r = await rollout(ns, { 'app.yaml': workloadYaml({ tag: 'v2' }) })
    expect(r.exitCode).toBe(1)
    expect(r.outputs.result).toBe('failed')
    expect(r.log).toMatch(
      /conflicts? with "kubectl-client-side-apply".*\(set force-conflicts: true to take these fields over\)/
    )
    expect(image(ns)).toMatch(/:v1$/)
    r = await rollout(ns, { 'app.yaml': workloadYaml({ tag: 'v2' }) }, { 'force-conflicts': 'true' })
    expect({ result: r.outputs.result, log: r.exitCode === 0 ? '' : explain(r) }).toEqual({
      result: 'success',
      log: ''
    })
    expect(image(ns)).toMatch(/:v2$/)
  })

  it('stops at once with a clear error on a paused Deployment', async () => {
    const ns = namespace('paused')
    await firstRelease(ns)
    kubectl('rollout', 'pause', 'deployment/web', '-n', ns)
    const r = await rollout(ns, { 'app.yaml': workloadYaml({ tag: 'v2' }) })
    expect(r.exitCode).toBe(1)
    expect(r.outputs.result).toBe('failed')
    expect(r.outputs['failure-reason']).toMatch(
      /deployment "web" is paused, so its rollout cannot progress; resume it/
    )
    expect(Number(r.outputs.duration)).toBeLessThan(30)
    // kubectl's rule: a paused Deployment is not rolled back; the message says a person must act.
    expect(r.log).toMatch(/ROLLBACK FAILED, a person must act: .*paused/)
  })

  it.each([
    ['StatefulSet', 'statefulset'],
    ['DaemonSet', 'daemonset']
  ] as const)(
    'rolls out a %s and rolls back a crash-looping one with its ControllerRevision history',
    async (kind, lower) => {
      const ns = namespace(lower.slice(0, 6))
      const w = { kind, name: 'db', replicas: 2 }
      let r = await rollout(ns, { 'app.yaml': workloadYaml({ ...w, tag: 'v1' }) })
      expect({ result: r.outputs.result, log: r.exitCode === 0 ? '' : explain(r) }).toEqual({
        result: 'success',
        log: ''
      })
      r = await rollout(ns, { 'app.yaml': workloadYaml({ ...w, tag: 'v2', behavior: 'slow-ready' }) })
      expect({ result: r.outputs.result, log: r.exitCode === 0 ? '' : explain(r) }).toEqual({
        result: 'success',
        log: ''
      })
      expect(r.outputs).toMatchObject({ revision: '2', 'previous-revision': '1' })
      expect(image(ns, lower, 'db')).toMatch(/:v2$/)
      r = await rollout(ns, { 'app.yaml': workloadYaml({ ...w, tag: 'v3', behavior: 'crashloop' }) })
      expect(r.outputs).toMatchObject({ result: 'rolled-back', 'rolled-back': 'true' })
      expect(r.outputs['failure-reason']).toMatch(/CrashLoopBackOff|exited with code 1/)
      expect(image(ns, lower, 'db')).toMatch(/:v2$/)
      expect(r.log).toMatch(new RegExp(`roll back ${lower} "db" to revision 2 \\(ControllerRevision db-`))
    }
  )

  it('applies nothing when one document among valid ones is invalid, naming file and line', async () => {
    const ns = namespace('invalid')
    const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n`
    const badKind = `apiVersion: apps/v1\nkind: Deploymnt\nmetadata: {name: typo}\n`
    const badField = `---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - port: 99999\n`
    let r = await rollout(ns, {
      'a.yaml': cm,
      'b.yaml': workloadYaml({}),
      'c.yaml': `${cm.replace('settings', 'other')}---\n${badKind}`
    })
    expect(r.exitCode).toBe(1)
    expect(r.outputs.result).toBe('failed')
    expect(r.log).toMatch(/c\.yaml:6 \(document 2\): unknown kind Deploymnt in apiVersion apps\/v1/)
    expect(r.log).toMatch(/nothing was applied/)
    // A document the server rejects in its dry-run stops everything too.
    r = await rollout(ns, { 'a.yaml': cm, 'b.yaml': workloadYaml({}), 'd.yaml': badField })
    expect(r.exitCode).toBe(1)
    expect(r.log).toMatch(/d\.yaml:2 \(document 1\): Service \S+\/web: .*spec\.ports\[0\]\.port/)
    expect(
      kubectl('get', 'configmaps,deployments,services', '-n', ns, '-o', 'name')
        .split('\n')
        .filter(l => /settings|other|web/.test(l))
    ).toEqual([])
  })

  it('names verb, resource and namespace when the deployer may not do something, and leaks no credential', async () => {
    const ns = namespace('forbidden')
    // The deployer may read what it needs and patch ConfigMaps, but not Deployments.
    kubectlInput(
      `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: ${ns}}
rules:
- apiGroups: ['', apps]
  resources: [configmaps, deployments, replicasets, pods, events]
  verbs: [get, list, watch]
- apiGroups: ['']
  resources: [configmaps]
  verbs: [patch, create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects: [{kind: User, name: deployer, apiGroup: rbac.authorization.k8s.io}]
`,
      'apply',
      '-f',
      '-'
    )
    const content = readFileSync(tb.KUBECONFIG_DEPLOYER!, 'utf8')
    const dir = manifestDir({
      'app.yaml': workloadYaml({}),
      'cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n`
    })
    const r = await runAction({
      action: 'rollout',
      inputs: { manifests: dir, namespace: ns, kubeconfig: content, timeout: '1m' },
      env: {},
      timeoutMs: 120_000
    })
    expect(r.exitCode).toBe(1)
    const error = r.annotations.find(a => a.level === 'error')?.message ?? ''
    expect(error).toMatch(new RegExp(`may not patch deployments\\.apps in namespace ${ns}`))
    expect(kubectl('get', 'configmaps', '-n', ns, '-o', 'name')).not.toContain('configmap/s')
    expect(leaksSecret(r, content)).toBe(false)
    for (const secret of credentialsOf(content))
      expect({ secret: secret.slice(0, 12), leaked: leaksSecret(r, secret) }).toEqual({
        secret: secret.slice(0, 12),
        leaked: false
      })
  })

  it('reaches the right verdict across an API server restart, rolling back once', async () => {
    const ns = namespace('restart')
    await firstRelease(ns, { replicas: 3 })
    // slow-ready, one pod at a time: about 15 s of waiting, with the API server gone in the middle.
    const strategy = '  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}\n'
    const pending = rollout(ns, {
      'app.yaml': workloadYaml({ replicas: 3, tag: 'v2', behavior: 'slow-ready', strategy })
    })
    // Mid-wait: the new ReplicaSet has its first pod (the action is watching by then).
    await waitFor(() => {
      const d = json('deployment/web', '-n', ns)
      return d.metadata.generation === 2 && d.status.observedGeneration === 2 && d.status.updatedReplicas >= 1
    }, 60_000)
    await run(join(REPO_ROOT, 'testbed/testbed.sh'), ['restart-apiserver'], { timeout: 120_000 })
    const r = await pending
    expect({ result: r.outputs.result, log: r.exitCode === 0 ? '' : explain(r) }).toEqual({
      result: 'success',
      log: ''
    })
    expect(r.log).toMatch(/reconnecting|listing again/)
    expect(image(ns)).toMatch(/:v2$/)

    // A doomed release with the API server restarted during the wait: one rollback, right verdict.
    const crashing = rollout(ns, {
      'app.yaml': workloadYaml({ replicas: 3, tag: 'v3', behavior: 'crashloop', strategy })
    })
    await waitFor(() => json('deployment/web', '-n', ns).metadata.generation > 2, 60_000)
    await run(join(REPO_ROOT, 'testbed/testbed.sh'), ['restart-apiserver'], { timeout: 120_000 })
    const c = await crashing
    expect(c.outputs).toMatchObject({
      result: 'rolled-back',
      'rolled-back': 'true',
      'previous-revision': '2'
    })
    expect(c.log.match(/roll back deployment "web" to revision/g)).toHaveLength(1)
    expect(image(ns)).toMatch(/:v2$/)
    expect(json('deployment/web', '-n', ns).metadata.annotations['deployment.kubernetes.io/revision']).toBe(
      '4'
    )
  })

  it('rolls out by pinning an image on an existing workload, by digest', async () => {
    const ns = namespace('pin')
    await firstRelease(ns)
    const digest = `registry.testbed.invalid/otlp-deploy/web@sha256:${'b'.repeat(64)}`
    const r = await runAction({
      action: 'rollout',
      inputs: { workload: 'deployment/web', images: `web=${digest}`, namespace: ns, timeout: '2m' },
      env: { KUBECONFIG: tb.KUBECONFIG },
      timeoutMs: 200_000
    })
    expect({ result: r.outputs.result, log: r.exitCode === 0 ? '' : explain(r) }).toEqual({
      result: 'success',
      log: ''
    })
    expect(r.outputs).toMatchObject({ revision: '2', 'previous-revision': '1' })
    expect(image(ns)).toBe(digest)
  })
})

/** The credentials in a kubeconfig, encoded and decoded, that must never be shown. */
function credentialsOf(kubeconfig: string): string[] {
  const out: string[] = []
  for (const m of kubeconfig.matchAll(/(client-key-data|token|password):\s*(\S+)/g)) {
    out.push(m[2]!)
    if (m[1] === 'client-key-data') {
      const pem = Buffer.from(m[2]!, 'base64').toString('utf8')
      out.push(...pem.split('\n').filter(l => l.length > 20 && !l.startsWith('-----')))
    }
  }
  expect(out.length).toBeGreaterThan(0)
  return out
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (check()) return
    } catch {
      // the API server may be restarting
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise(r => setTimeout(r, 200))
  }
}
