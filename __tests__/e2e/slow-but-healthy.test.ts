/**
 * No false alarms, on the test bed's real node (kubelet, containerd) with the rollout's default
 * inputs (doom-grace 2m, timeout 10m): releases that are slow but healthy are never rolled back,
 * and the same releases with a crashing workload added still fail fast.
 *
 * - an image whose pull takes minutes: a new layer of incompressible data, served through a
 *   loopback proxy that throttles the registry link;
 * - a 4-minute init container (a migration);
 * - a startup probe that passes after 3 minutes (inside its budget of 5);
 * - a pod that schedules when a node joins 3 minutes later: the test plays the cluster autoscaler
 *   (a TriggeredScaleUp event, then a node, kwok's, with the pool's label);
 * - a readiness gate set after 3 minutes: the test plays the load balancer controller.
 * And: a migration Job that fails is rolled back, with its log line in the summary's cause.
 *
 * Machines that cannot run a kubelet start the test bed with TESTBED_REAL_NODE=0; this file then
 * says so and runs nothing.
 */
import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT, runAction, type ActionRun } from '../harness/runner.js'
import { startThrottleProxy, type ThrottleProxy } from './net-fixtures.js'
import { createPullSecret, kubectl, requireTestbed, testNamespaces, testbedEnv } from './testbed.js'

jest.setTimeout(1_200_000)
const optedOut = process.env.TESTBED_REAL_NODE === '0' && !testbedEnv().TESTBED_REAL_NODE
if (optedOut) console.warn('TESTBED_REAL_NODE=0: the slow-but-healthy suite does not run on this machine')
const describeNode = optedOut ? describe.skip : describe
type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const SLOW_MS = 180_000

describeNode('slow but healthy releases on the real node, with the default inputs', () => {
  const tb = optedOut
    ? {}
    : requireTestbed(
        'KUBECONFIG',
        'KUBECTL',
        'REGISTRY',
        'REGISTRY_USERNAME',
        'REGISTRY_PASSWORD',
        'TESTBED_BASE_IMAGE',
        'TESTBED_REAL_NODE_SELECTOR'
      )
  const namespace = optedOut ? () => '' : testNamespaces('slow')
  const get = (...args: string[]): Obj => JSON.parse(kubectl('get', ...args, '-o', 'json')) as Obj
  const pool = `pool-${Date.now().toString(36)}`
  let proxy: ThrottleProxy | undefined
  const background: Promise<unknown>[] = []
  let stopped = false

  afterAll(async () => {
    stopped = true
    await Promise.allSettled(background)
    await proxy?.close()
    kubectl('delete', 'node', `${pool}-node`, '--ignore-not-found', '--wait=false')
  })

  /** Pod spec lines that put a pod on the real node with the test bed's busybox image. */
  const onRealNode = (pullSecret = 'registry') => {
    const [key, value] = tb.TESTBED_REAL_NODE_SELECTOR!.split('=')
    return `      nodeSelector: {${key}: "${value}"}
      tolerations: [{key: testbed/real-node, operator: Exists, effect: NoSchedule}]
      imagePullSecrets: [{name: ${pullSecret}}]
      terminationGracePeriodSeconds: 1`
  }
  const deployment = (name: string, podSpec: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}, testbed/behavior: ready}}
    spec:
${podSpec}${extra}
`
  const container = (command: string, more = '') => `
      containers:
      - name: main
        image: ${tb.TESTBED_BASE_IMAGE}
        command: [/bin/sh, -c, '${command}']${more}`

  /** The five slow workloads, one manifest each. */
  function slowWorkloads(slowImage: string): Record<string, string> {
    return {
      'pull.yaml': deployment(
        'slow-pull',
        onRealNode('registry-proxy'),
        `
      containers:
      - name: main
        image: ${slowImage}
        command: [/bin/sh, -c, 'exec sleep 3600']`
      ),
      'init.yaml': deployment(
        'long-init',
        onRealNode(),
        `
      initContainers:
      - name: migrate
        image: ${tb.TESTBED_BASE_IMAGE}
        command: [/bin/sh, -c, 'echo migrating; sleep 240; echo done']${container('exec sleep 3600')}`
      ),
      'startup.yaml': deployment(
        'slow-start',
        onRealNode(),
        container(
          'sleep 180; touch /tmp/started; exec sleep 3600',
          `
        startupProbe:
          exec: {command: [test, -f, /tmp/started]}
          periodSeconds: 10
          failureThreshold: 30`
        )
      ),
      'scale-up.yaml': deployment(
        'needs-a-node',
        `      nodeSelector: {e2e/pool: ${pool}}
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: registry.testbed.invalid/otlp-deploy/web:v1`
      ),
      'gate.yaml': deployment(
        'gated',
        `${onRealNode()}
      readinessGates: [{conditionType: e2e.example.com/load-balancer-ready}]`,
        container('exec sleep 3600')
      )
    }
  }

  function rollout(ns: string, files: Record<string, string>): Promise<ActionRun> {
    const dir = mkdtempSync(join(tmpdir(), 'slow-'))
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
    // The defaults: no doom-grace, no timeout given.
    return runAction({
      action: 'rollout',
      inputs: { manifests: dir, namespace: ns },
      env: { KUBECONFIG: tb.KUBECONFIG },
      timeoutMs: 900_000
    })
  }

  /** Pushes busybox plus a layer of `bytes` random bytes as a new tag; returns the tag. */
  async function pushSlowImage(bytes: number): Promise<string> {
    const [, repo, tag] = /^[^/]+\/(.+):([^:]+)$/.exec(tb.TESTBED_BASE_IMAGE!)!
    const base = `http://${tb.REGISTRY}/v2/${repo}`
    const auth = {
      authorization: `Basic ${Buffer.from(`${tb.REGISTRY_USERNAME}:${tb.REGISTRY_PASSWORD}`).toString('base64')}`
    }
    const accept =
      'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json'
    let manifest = (await (
      await fetch(`${base}/manifests/${tag}`, { headers: { ...auth, accept } })
    ).json()) as Obj
    if (manifest.manifests) {
      const amd64 = manifest.manifests.find((m: Obj) => m.platform?.architecture === 'amd64')
      manifest = (await (
        await fetch(`${base}/manifests/${amd64.digest}`, { headers: { ...auth, accept } })
      ).json()) as Obj
    }
    const config = (await (
      await fetch(`${base}/blobs/${manifest.config.digest}`, { headers: auth })
    ).json()) as Obj
    const dir = mkdtempSync(join(tmpdir(), 'slow-layer-'))
    writeFileSync(join(dir, 'slow.bin'), randomBytes(bytes))
    execFileSync('tar', ['-C', dir, '-cf', join(dir, 'layer.tar'), 'slow.bin'])
    const layer = readFileSync(join(dir, 'layer.tar'))
    const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`
    const upload = async (blob: Buffer) => {
      const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST', headers: auth })
      const location = new URL(start.headers.get('location')!, `http://${tb.REGISTRY}`)
      location.searchParams.set('digest', digest(blob))
      const put = await fetch(location, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/octet-stream' },
        body: blob
      })
      expect(put.status).toBe(201)
    }
    config.rootfs.diff_ids.push(digest(layer))
    const configBlob = Buffer.from(JSON.stringify(config))
    await upload(layer)
    await upload(configBlob)
    const newTag = `slow-${Date.now().toString(36)}`
    const mediaType = manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json'
    const layerType = mediaType.includes('docker')
      ? 'application/vnd.docker.image.rootfs.diff.tar'
      : 'application/vnd.oci.image.layer.v1.tar'
    const body = {
      ...manifest,
      config: { ...manifest.config, digest: digest(configBlob), size: configBlob.length },
      layers: [...manifest.layers, { mediaType: layerType, digest: digest(layer), size: layer.length }]
    }
    const put = await fetch(`${base}/manifests/${newTag}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': mediaType },
      body: JSON.stringify(body)
    })
    expect(put.status).toBe(201)
    return `${repo}:${newTag}`
  }

  /** The cluster autoscaler, played: a TriggeredScaleUp event for each pending pod, then a node with the pool's label. */
  function playAutoscaler(ns: string): void {
    background.push(
      (async () => {
        const announced = new Set<string>()
        const until = Date.now() + SLOW_MS
        while (!stopped && Date.now() < until) {
          for (const p of get('pods', '-n', ns, '-l', 'app=needs-a-node').items as Obj[]) {
            const unschedulable = p.status.conditions?.some(
              (c: Obj) => c.type === 'PodScheduled' && c.reason === 'Unschedulable'
            )
            if (!unschedulable || announced.has(p.metadata.uid)) continue
            announced.add(p.metadata.uid)
            const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
            execFileSync(tb.KUBECTL!, ['--kubeconfig', tb.KUBECONFIG!, 'create', '-f', '-'], {
              input: JSON.stringify({
                apiVersion: 'v1',
                kind: 'Event',
                metadata: { name: `${p.metadata.name}.scale-up`, namespace: ns },
                involvedObject: {
                  apiVersion: 'v1',
                  kind: 'Pod',
                  name: p.metadata.name,
                  namespace: ns,
                  uid: p.metadata.uid
                },
                reason: 'TriggeredScaleUp',
                message: `pod triggered scale-up: [{${pool} 0->1 (max: 3)}]`,
                type: 'Normal',
                source: { component: 'cluster-autoscaler' },
                firstTimestamp: now,
                lastTimestamp: now,
                count: 1
              })
            })
          }
          await sleep(1000)
        }
        if (stopped) return
        execFileSync(tb.KUBECTL!, ['--kubeconfig', tb.KUBECONFIG!, 'apply', '-f', '-'], {
          input: JSON.stringify({
            apiVersion: 'v1',
            kind: 'Node',
            metadata: {
              name: `${pool}-node`,
              annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
              labels: {
                'kubernetes.io/hostname': `${pool}-node`,
                'kubernetes.io/os': 'linux',
                'kubernetes.io/arch': 'amd64',
                type: 'kwok',
                'e2e/pool': pool
              }
            },
            status: {
              allocatable: { cpu: '16', memory: '64Gi', pods: '110' },
              capacity: { cpu: '16', memory: '64Gi', pods: '110' },
              nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'v1.34.4' }
            }
          })
        })
      })()
    )
  }

  /** The load balancer controller, played: after three minutes it marks each gated pod ready for traffic. */
  function playLoadBalancer(ns: string): void {
    background.push(
      (async () => {
        await sleep(SLOW_MS)
        const marked = new Set<string>()
        while (!stopped) {
          for (const p of get('pods', '-n', ns, '-l', 'app=gated').items as Obj[]) {
            if (marked.has(p.metadata.name) || p.metadata.deletionTimestamp) continue
            marked.add(p.metadata.name)
            kubectl(
              'patch', 'pod', p.metadata.name, '-n', ns, '--subresource=status', '--type=strategic', '-p',
              JSON.stringify({ status: { conditions: [{ type: 'e2e.example.com/load-balancer-ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } })
            ) // prettier-ignore
          }
          if (marked.size > 0) return
          await sleep(1000)
        }
      })()
    )
  }

  it('rolls none of them back, and each really was slow', async () => {
    // 2 MiB at 12 KiB/s: the layer alone takes about 170 s to pull.
    proxy = await startThrottleProxy(tb.REGISTRY!, 12 * 1024)
    const slowImage = `${proxy.address}/${await pushSlowImage(2 * 1024 * 1024)}`
    const workloads = slowWorkloads(slowImage)
    const namespaces: Record<string, string> = {}
    // CAPTURE_FIXTURES=1 keeps each pod (and the events about it) as it stands 150 s in, past
    // doom-grace: the fixtures of the doom rules' unit tests (__tests__/fixtures/kube/slow/).
    if (process.env.CAPTURE_FIXTURES === '1')
      background.push(
        sleep(150_000).then(() => {
          const dir = join(REPO_ROOT, '__tests__/fixtures/kube/slow')
          mkdirSync(dir, { recursive: true })
          for (const [file, ns] of Object.entries(namespaces)) {
            const pods = (get('pods', '-n', ns).items as Obj[]).filter(p => !p.metadata.deletionTimestamp)
            const events = get('events', '-n', ns, '--field-selector', 'involvedObject.kind=Pod')
              .items as Obj[]
            for (const o of [...pods, ...events]) delete o.metadata.managedFields
            writeFileSync(
              join(dir, file.replace('.yaml', '.json')),
              JSON.stringify({ pod: pods[0], events, capturedAt: new Date().toISOString() }, null, 2) + '\n'
            )
          }
        })
      )
    const runs = await Promise.all(
      Object.entries(workloads).map(async ([file, text]) => {
        const ns = namespace(file.replace('.yaml', ''))
        namespaces[file] = ns
        createPullSecret(ns, 'registry')
        createPullSecret(ns, 'registry-proxy', tb.REGISTRY_PASSWORD!, proxy!.address)
        if (file === 'scale-up.yaml') playAutoscaler(ns)
        if (file === 'gate.yaml') playLoadBalancer(ns)
        return { file, ns, run: await rollout(ns, { [file]: text }) }
      })
    )
    for (const { file, run } of runs) {
      expect({
        file,
        result: run.outputs.result,
        log: run.outputs.result === 'success' ? '' : run.log.slice(-4000)
      }).toEqual({
        file,
        result: 'success',
        log: ''
      })
      // Each stood not Ready for longer than doom-grace (2 minutes).
      expect({ file, slow: Number(run.outputs.duration) > 150 }).toEqual({ file, slow: true })
    }
    expect(proxy.sent()).toBeGreaterThan(2 * 1024 * 1024)
    const pulled = runs.find(r => r.file === 'pull.yaml')!
    expect(get('pods', '-n', pulled.ns).items[0].spec.containers[0].image).toBe(slowImage)
  })

  it('still fails fast when a crashing workload is added to the same slow release', async () => {
    const ns = namespace('crash')
    createPullSecret(ns, 'registry')
    createPullSecret(ns, 'registry-proxy')
    const slow = slowWorkloads(`${tb.REGISTRY}/${tb.TESTBED_BASE_IMAGE!.replace(/^[^/]+\//, '')}`)
    const crash = deployment(
      'crashes',
      onRealNode(),
      container('echo "cannot open /etc/app/config.yaml" >&2; exit 1')
    )
    const r = await rollout(ns, { ...slow, 'crash.yaml': crash })
    expect({
      result: r.outputs.result,
      log: r.outputs.result === 'rolled-back' ? '' : r.log.slice(-4000)
    }).toEqual({
      result: 'rolled-back',
      log: ''
    })
    expect(r.outputs['failure-reason']).toMatch(
      /^deployment\/crashes: pod crashes-.* is doomed: (CrashLoopBackOff|Error)/
    )
    expect(Number(r.outputs.duration)).toBeLessThan(90)
    expect(r.summary).toContain('cannot open /etc/app/config.yaml')
    // Everything the release created is gone again.
    expect(kubectl('get', 'deployments', '-n', ns, '-o', 'name').trim()).toBe('')
  })

  it('rolls back a release whose migration Job fails, with the line that says why as its cause', async () => {
    const ns = namespace('migrate')
    createPullSecret(ns, 'registry')
    const web = (version: string) =>
      deployment('web', onRealNode(), container(`echo ${version}; exec sleep 3600`))
    const first = await rollout(ns, { 'web.yaml': web('v1') })
    expect({
      result: first.outputs.result,
      log: first.outputs.result === 'success' ? '' : first.log.slice(-3000)
    }).toEqual({ result: 'success', log: '' })
    const job = `apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
${onRealNode()}${container('echo "migrating schema to v2"; echo "DATABASE_URL is not set" >&2; exit 3')}
`
    const r = await rollout(ns, { 'web.yaml': web('v2'), 'job.yaml': job })
    expect({
      result: r.outputs.result,
      log: r.outputs.result === 'rolled-back' ? '' : r.log.slice(-4000)
    }).toEqual({
      result: 'rolled-back',
      log: ''
    })
    expect(r.outputs['failure-reason']).toMatch(/^job\/migrate failed: BackoffLimitExceeded/)
    const cause = r.summary.slice(r.summary.indexOf('### Cause'), r.summary.indexOf('### Rolled back'))
    expect(cause).toMatch(/\*\*Job\/migrate\*\*, pod `migrate-[a-z0-9]+`, container `main`/)
    expect(cause).toMatch(/exit 3/)
    expect(cause).toContain('DATABASE_URL is not set')
    expect(r.summary).toContain(`**Job ${ns}/migrate** deleted (the release created it)`)
    expect(get('deployment', 'web', '-n', ns).spec.template.spec.containers[0].command[2]).toBe(
      'echo v1; exec sleep 3600'
    )
  })
})
