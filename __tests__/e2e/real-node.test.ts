/**
 * actions/rollout on the test bed's real worker node (testbed/node/node.sh: kubelet, containerd,
 * CNI bridge, kube-proxy), with the real otlp-client image built by image-build and the production
 * base manifests (otlp-client/k8s/base) pinned to that node. Nothing here is simulated: `/ready`
 * gates availability through the kubelet's probes, the smoke test reaches `/health` through a
 * NodePort Service, a release whose container exits 1 really crash-loops, a tag missing from the
 * registry really fails to pull, a wrong pull secret really gets ImagePullBackOff — and each is
 * rolled back by the action.
 *
 * Machines that cannot run a kubelet start the test bed with TESTBED_REAL_NODE=0; this file then
 * says so and runs nothing.
 */
import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { REPO_ROOT, leaksSecret, runAction, type ActionRun } from '../harness/runner.js'
import { IMAGE_ENV, buildOtlpClientImage, health } from './otlp-client-image.js'
import { createPullSecret, kubectl, pinToRealNode, requireTestbed, testbedEnv } from './testbed.js'

jest.setTimeout(1_800_000)

const optedOut = process.env.TESTBED_REAL_NODE === '0' && !testbedEnv().TESTBED_REAL_NODE
if (optedOut) console.warn('TESTBED_REAL_NODE=0: the real-node tests do not run on this machine')
const describeNode = optedOut ? describe.skip : describe

type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

describeNode('a release of otlp-client on the real node', () => {
  const tb = optedOut
    ? {}
    : requireTestbed(
        ...IMAGE_ENV,
        'KUBECONFIG',
        'KUBECTL',
        'TESTBED_REAL_NODE',
        'TESTBED_REAL_NODE_SELECTOR',
        'TESTBED_NODEPORT_HOST'
      )
  const ns = `real-node-e2e-${Date.now().toString(36)}`
  const nodePort = 30000 + (Date.now() % 2700)
  const smokeUrl = `http://${tb.TESTBED_NODEPORT_HOST}:${nodePort}/health`
  const repo = `${tb.REGISTRY}/e2e/otlp-client-real`
  const work = mkdtempSync(join(tmpdir(), 'e2e-real-node-'))
  let goodRef = ''

  /** The base manifests, in the test namespace, pinned to the real node (see the file comment). */
  function manifests(change: (deployment: Obj) => void = () => {}): string {
    const rendered = execFileSync(tb.KUBECTL!, ['kustomize', join(REPO_ROOT, 'otlp-client/k8s/base')], {
      encoding: 'utf8'
    })
    // The HPA would own the replica count; the Prometheus Operator kinds have no CRDs here.
    const dropped = new Set(['Namespace', 'HorizontalPodAutoscaler', 'ServiceMonitor', 'PrometheusRule'])
    const docs = parseAllDocuments(rendered)
      .map(d => d.toJS() as Obj)
      .filter(o => !dropped.has(o.kind))
    for (const o of docs) {
      o.metadata.namespace = ns
      pinToRealNode(tb, o, { nodePort, pullSecret: 'registry' })
      if (o.kind === 'Deployment') {
        o.spec.replicas = 2
        change(o)
      }
    }
    const file = join(work, `release-${Date.now()}.yaml`)
    writeFileSync(file, docs.map(d => JSON.stringify(d)).join('\n---\n'))
    return file
  }

  function rollout(file: string, image: string, extra: Record<string, string> = {}): Promise<ActionRun> {
    return runAction({
      action: 'rollout',
      inputs: {
        manifests: file,
        namespace: ns,
        images: `otlp-client=${image}`,
        timeout: '5m',
        'smoke-url': smokeUrl,
        'smoke-expect': 'ok',
        ...extra
      },
      env: { KUBECONFIG: tb.KUBECONFIG },
      timeoutMs: 900_000
    })
  }

  const pods = (): Obj[] =>
    (JSON.parse(kubectl('get', 'pods', '-n', ns, '-o', 'json')) as Obj).items.filter(
      (p: Obj) => !p.metadata.deletionTimestamp
    )
  const templateImage = () =>
    kubectl(
      'get',
      'deployment',
      'otlp-client',
      '-n',
      ns,
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}'
    )

  /** After a rollback: the good release again, every pod ready on the real node, /health through the Service. */
  async function expectRolledBack(run: ActionRun, reason: RegExp): Promise<void> {
    expect({
      exitCode: run.exitCode,
      result: run.outputs.result,
      rolledBack: run.outputs['rolled-back']
    }).toEqual({
      exitCode: 1,
      result: 'rolled-back',
      rolledBack: 'true'
    })
    expect(run.outputs['failure-reason']).toMatch(reason)
    expect(templateImage()).toBe(goodRef)
    const ready = pods().filter(p =>
      p.status.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True')
    )
    expect(ready.map(p => [p.spec.nodeName, p.spec.containers[0].image])).toEqual([
      [tb.TESTBED_REAL_NODE, goodRef],
      [tb.TESTBED_REAL_NODE, goodRef]
    ])
    expect(await health(smokeUrl, Date.now() + 20_000)).toEqual({ status: 200, body: 'ok' })
    expect(leaksSecret(run, tb.REGISTRY_PASSWORD!)).toBe(false)
  }

  beforeAll(async () => {
    kubectl('create', 'namespace', ns)
    createPullSecret(ns, 'registry')
    createPullSecret(ns, 'registry-wrong', `${tb.REGISTRY_PASSWORD}-wrong`)
    const build = await buildOtlpClientImage(tb, repo)
    expect({ exitCode: build.exitCode, errors: build.annotations.filter(a => a.level === 'error') }).toEqual({
      exitCode: 0,
      errors: []
    })
    goodRef = build.outputs['image-ref']!
  })
  afterAll(() => {
    kubectl('delete', 'namespace', ns, '--wait=false')
  })

  it('becomes ready on the real node, gated by /ready, and answers /health through its NodePort', async () => {
    const run = await rollout(manifests(), goodRef)
    const errors = run.annotations.filter(a => a.level === 'error').map(a => a.message)
    expect({ exitCode: run.exitCode, errors, result: run.outputs.result }).toEqual({
      exitCode: 0,
      errors: [],
      result: 'success'
    })
    const running = pods()
    expect(running).toHaveLength(2)
    for (const p of running) {
      expect(p.spec.nodeName).toBe(tb.TESTBED_REAL_NODE)
      // A container the real runtime started: containerd's id, the image resolved to its digest.
      const status = p.status.containerStatuses[0]
      expect(status.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/)
      expect(status.imageID).toBe(goodRef)
      expect(status.ready).toBe(true)
      expect(p.status.podIP).toMatch(/^10\.244\.0\.\d+$/)
    }
    // The pods' own /ready answers (the kubelet's readiness probe asks the same URL).
    for (const p of running) {
      expect(await health(`http://${p.status.podIP}:8080/ready`, Date.now() + 10_000)).toEqual({
        status: 200,
        body: expect.stringMatching(/ready/)
      })
    }
    // The ClusterIP answers from this machine too (kube-proxy's rules).
    const clusterIp = kubectl('get', 'service', 'otlp-client', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}')
    expect(await health(`http://${clusterIp}:8080/health`, Date.now() + 10_000)).toEqual({
      status: 200,
      body: 'ok'
    })
    expect(leaksSecret(run, tb.REGISTRY_PASSWORD!)).toBe(false)
  })

  it('rolls back a release whose container exits 1 and crash-loops', async () => {
    expect(goodRef).not.toBe('')
    // `otlp-client health` asks a relay that is not running: the real binary exits 1, every time.
    const file = manifests(d => {
      d.spec.template.spec.containers[0].args = ['health']
    })
    const run = await rollout(file, goodRef)
    await expectRolledBack(run, /CrashLoopBackOff|exit code 1|exited with code 1/i)
    // The doomed pod's own output, fetched from the real kubelet, is in the report.
    expect(run.log).toMatch(/otlp-client health: /)
  })

  it('rolls back a release whose image tag is missing from the registry', async () => {
    const run = await rollout(manifests(), `${repo}:no-such-tag-${Date.now().toString(36)}`)
    await expectRolledBack(run, /ErrImagePull|ImagePullBackOff/)
    expect(run.log).toMatch(/not found|manifest unknown/i)
  })

  it('rolls back a release pulled with a wrong pull secret (a real ImagePullBackOff)', async () => {
    const file = manifests(d => {
      const pod = d.spec.template.spec
      pod.imagePullSecrets = [{ name: 'registry-wrong' }]
      // Always: the image is already on the node, and only a pull checks the credentials.
      pod.containers[0].imagePullPolicy = 'Always'
    })
    const run = await rollout(file, goodRef)
    await expectRolledBack(run, /ErrImagePull|ImagePullBackOff/)
    expect(run.log).toMatch(/401|unauthorized|authorization failed/i)
  })
})
