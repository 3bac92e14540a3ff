// A release is more than its Deployments, end to end on the test bed (the committed bundle, run as
// the runner runs it; kwok plays the kubelets, pods behave as their `testbed/behavior` label says):
// the whole release rolled back, custom resources of a CRD in the same release waited on, ApplySet
// pruning, and an eviction mid-rollout. Where a test plays a controller (the Widget controller,
// the kubelet evicting a pod) its name says so. Rebuild first: node scripts/build.mjs rollout.
import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAction, type ActionRun } from '../harness/runner.js'
import { kubectl, requireTestbed, testNamespaces } from './testbed.js'

jest.setTimeout(600_000)
const tb = requireTestbed('KUBECONFIG', 'KUBECTL')
const namespace = testNamespaces('rel')
type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const get = (...args: string[]): Obj => JSON.parse(kubectl('get', ...args, '-o', 'json')) as Obj
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

function rollout(
  ns: string,
  files: Record<string, string>,
  inputs: Record<string, string> = {}
): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'release-objects-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return runAction({
    action: 'rollout',
    inputs: { manifests: dir, namespace: ns, timeout: '2m', ...inputs },
    env: { KUBECONFIG: tb.KUBECONFIG },
    timeoutMs: 300_000
  })
}

function explain(r: ActionRun): string {
  return `exit ${r.exitCode}\noutputs ${JSON.stringify(r.outputs, null, 1)}\nlog:\n${r.log.slice(-5000)}`
}

function expectResult(r: ActionRun, result: string): void {
  expect({ result: r.outputs.result, log: r.outputs.result === result ? '' : explain(r) }).toEqual({
    result,
    log: ''
  })
}

function deployment(tag: string, behavior: string, replicas = 2): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, testbed/behavior: ${behavior}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: registry.testbed.invalid/otlp-deploy/web:${tag}
        envFrom: [{configMapRef: {name: web-config}}]
`
}

const configMap = (level: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {LOG_LEVEL: ${level}}
`

describe('a release is more than its Deployments', () => {
  it('rolls back the whole release: the changed ConfigMap gets its old data, the added Service is deleted, the pods run the old template', async () => {
    const ns = namespace('whole')
    expectResult(
      await rollout(ns, { 'a.yaml': `${configMap('info')}---\n${deployment('v1', 'ready')}` }),
      'success'
    )
    const service = `apiVersion: v1
kind: Service
metadata: {name: web-new}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
`
    const r = await rollout(ns, {
      'a.yaml': `${configMap('debug')}---\n${service}---\n${deployment('v2', 'crashloop')}`
    })
    expectResult(r, 'rolled-back')
    expect(r.outputs['failure-reason']).toMatch(
      /deployment\/web: pod web-.* is doomed: (CrashLoopBackOff|Error)/
    )
    expect(get('configmap', 'web-config', '-n', ns).data).toEqual({ LOG_LEVEL: 'info' })
    expect(() => kubectl('get', 'service', 'web-new', '-n', ns)).toThrow(/NotFound/)
    expect(get('deployment', 'web', '-n', ns).spec.template.spec.containers[0].image).toBe(
      'registry.testbed.invalid/otlp-deploy/web:v1'
    )
    const ready = get('pods', '-n', ns).items.filter(
      (p: Obj) =>
        !p.metadata.deletionTimestamp &&
        p.status.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True')
    )
    expect(ready.map((p: Obj) => p.spec.containers[0].image)).toEqual([
      'registry.testbed.invalid/otlp-deploy/web:v1',
      'registry.testbed.invalid/otlp-deploy/web:v1'
    ])
    // The summary leads with the cause, then says what was rolled back, restored and deleted.
    const order = [
      '**Release failed and was rolled back**',
      '### Cause',
      '### Rolled back',
      '### Objects',
      '### Timeline'
    ]
    expect(order.map(s => r.summary.indexOf(s))).toEqual(
      [...order.map(s => r.summary.indexOf(s))].sort((a, b) => a - b)
    )
    expect(order.every(s => r.summary.includes(s))).toBe(true)
    expect(r.summary).toContain(`**ConfigMap ${ns}/web-config** restored to its state before the release`)
    expect(r.summary).toContain(`**Service ${ns}/web-new** deleted (the release created it)`)
    expect(r.summary).toMatch(/\*\*Deployment\/web\*\* rolled back to revision 1/)
  })

  describe('custom resources of a CRD in the same release (the test plays the Widget controller)', () => {
    const group = `w${Date.now().toString(36)}.e2e.example.com`
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.${group}}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`
    const widget = (name: string) => `apiVersion: ${group}/v1
kind: Widget
metadata: {name: ${name}}
spec: {size: 3}
`
    // The controller this kind would have: `ready` becomes Ready, `broken` reports Stalled, `silent` is never answered.
    let stop = false
    const controller = (async () => {
      while (!stop) {
        try {
          const list = JSON.parse(kubectl('get', `widgets.${group}`, '-A', '-o', 'json')) as Obj
          for (const w of list.items as Obj[]) {
            const name = w.metadata.name as string
            if (name === 'silent' || w.status) continue
            const condition =
              name === 'ready'
                ? { type: 'Ready', status: 'True', reason: 'Provisioned', message: 'widget is up' }
                : {
                    type: 'Stalled',
                    status: 'True',
                    reason: 'InvalidSize',
                    message: 'size 3 is not offered in this region'
                  }
            kubectl(
              'patch', `widgets.${group}`, name, '-n', w.metadata.namespace, '--subresource=status', '--type=merge',
              '-p', JSON.stringify({ status: { observedGeneration: w.metadata.generation, conditions: [condition] } })
            ) // prettier-ignore
          }
        } catch {
          // The CRD does not exist yet.
        }
        await sleep(300)
      }
    })()
    afterAll(async () => {
      stop = true
      await controller
      kubectl('delete', 'crd', `widgets.${group}`, '--ignore-not-found', '--wait=false')
    })

    it('applies the CRD, waits until it is established, then applies and waits for the Widget until it is Ready', async () => {
      const r = await rollout(namespace('crd-ready'), { 'a.yaml': `${crd}---\n${widget('ready')}` })
      expectResult(r, 'success')
      expect(r.log).toContain(`CustomResourceDefinition widgets.${group} established`)
      expect(r.log).toContain('widget/ready ready (Ready)')
      expect(r.summary).toMatch(/\| Widget \| .* \| ready \| created \| widget\/ready ready \(Ready\) \|/)
    })

    it('fails fast on a Widget that reports Stalled, and deletes it (the release created it)', async () => {
      const ns = namespace('crd-broken')
      const r = await rollout(ns, { 'a.yaml': `${crd}---\n${widget('broken')}` })
      expectResult(r, 'rolled-back')
      expect(r.outputs['failure-reason']).toBe(
        'widget/broken: Stalled: InvalidSize: size 3 is not offered in this region'
      )
      expect(Number(r.outputs.duration)).toBeLessThan(30)
      expect(kubectl('get', `widgets.${group}`, '-n', ns, '-o', 'name')).toBe('')
      expect(r.summary).toContain(`**Widget ${ns}/broken** deleted (the release created it)`)
      // The CRD (applied unchanged here, created by the test before) is never deleted by a rollback.
      expect(kubectl('get', 'crd', `widgets.${group}`, '-o', 'name').trim()).toBe(
        `customresourcedefinition.apiextensions.k8s.io/widgets.${group}`
      )
    })

    it('times out on a Widget whose controller never reports, naming what it waited for', async () => {
      const r = await rollout(namespace('crd-silent'), { 'a.yaml': widget('silent') }, { timeout: '15s' })
      expectResult(r, 'rolled-back')
      expect(r.outputs['failure-reason']).toBe(
        `timed out waiting for widget/silent: waiting for widget/silent: its controller has not reported a status yet (is the controller of Widget.${group} running?)`
      )
    })
  })

  it('prunes what an earlier release of the ApplySet applied and this one does not; kubectl lists the set by its label', async () => {
    const ns = namespace('prune')
    const cm = (name: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {a: "1"}\n`
    kubectl('create', 'configmap', 'not-in-the-set', '-n', ns, '--from-literal=a=1')
    expectResult(
      await rollout(ns, { 'a.yaml': `${cm('keep')}---\n${cm('old')}` }, { applyset: 'web' }),
      'success'
    )
    const id = get('secret', 'web', '-n', ns).metadata.labels['applyset.kubernetes.io/id'] as string
    expect(id).toMatch(/^applyset-[A-Za-z0-9_-]{43}-v1$/)
    const members = () =>
      kubectl('get', 'configmaps', '-n', ns, '-l', `applyset.kubernetes.io/part-of=${id}`, '-o', 'name')
        .trim()
        .split('\n')
    expect(members()).toEqual(['configmap/keep', 'configmap/old'])
    const r = await rollout(ns, { 'a.yaml': cm('keep') }, { applyset: 'web', prune: 'true' })
    expectResult(r, 'success')
    expect(r.log).toContain(`ConfigMap ${ns}/old pruned: an earlier release applied it, this one does not`)
    expect(members()).toEqual(['configmap/keep'])
    expect(kubectl('get', 'configmap', 'not-in-the-set', '-n', ns, '-o', 'name').trim()).toBe(
      'configmap/not-in-the-set'
    )
    expect(get('secret', 'web', '-n', ns).metadata.annotations).toMatchObject({
      'applyset.kubernetes.io/contains-group-kinds': 'ConfigMap',
      'applyset.kubernetes.io/tooling': 'otlp-deploy-actions/v1'
    })
  })

  it('is not failed by the eviction of one new pod mid-rollout (the test plays the kubelet evicting it)', async () => {
    const ns = namespace('evict')
    expectResult(
      await rollout(ns, { 'a.yaml': `${configMap('info')}---\n${deployment('v1', 'ready', 3)}` }),
      'success'
    )
    const release = rollout(ns, { 'a.yaml': `${configMap('info')}---\n${deployment('v2', 'slow-ready', 3)}` })
    // The first pod of the new template is evicted as a kubelet under memory pressure does it.
    let evicted = ''
    for (let i = 0; i < 200 && !evicted; i++) {
      const pod = get('pods', '-n', ns).items.find(
        (p: Obj) =>
          p.spec.containers[0].image.endsWith(':v2') &&
          p.status.phase === 'Running' &&
          !p.metadata.deletionTimestamp
      )
      if (pod) {
        evicted = pod.metadata.name
        execFileSync(tb.KUBECTL!, [
          '--kubeconfig', tb.KUBECONFIG!, 'patch', 'pod', evicted, '-n', ns, '--subresource=status', '--type=merge', '-p',
          JSON.stringify({ status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' } })
        ]) // prettier-ignore
      } else await sleep(100)
    }
    expect(evicted).not.toBe('')
    const r = await release
    expectResult(r, 'success')
    expect(get('pod', evicted, '-n', ns).status.reason).toBe('Evicted')
  })
})

describe('an apply that stops part-way', () => {
  it('rolls back what it had applied: an object in a namespace the release creates is refused only at the apply', async () => {
    const ns = `rel-partial-${process.pid % 10000}-${Date.now().toString(36)}`
    try {
      const r = await rollout(ns, {
        'a.yaml': `apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: ${ns}}
data: {LOG_LEVEL: info}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec: {selector: {app: web}, ports: [{port: 0}]}
`
      })
      expectResult(r, 'rolled-back')
      expect(r.outputs['failure-reason']).toMatch(/^apply failed: .*Service .*web.*after 2 of 3 objects/)
      expect(() => kubectl('get', 'configmap', 'web-config', '-n', ns)).toThrow(/NotFound/)
      expect(r.summary).toContain(`**ConfigMap ${ns}/web-config** deleted (the release created it)`)
      expect(r.summary).toContain(`Namespace ${ns} (deleting a namespace deletes everything in it) kept`)
    } finally {
      kubectl('delete', 'namespace', ns, '--ignore-not-found', '--wait=false')
    }
  })
})
