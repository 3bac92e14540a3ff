// The otlp-client kustomize base deployed with the rollout action (the committed bundle, run as the
// runner runs it) on the test bed. Each test renders the base into its own namespace. The Prometheus
// Operator CRDs are stood in for by the test fixtures in otlp-client/k8s/testing/crds/.
// Rebuild first: node scripts/build.mjs rollout.
import { jest } from '@jest/globals'
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { REPO_ROOT, runAction, type ActionRun } from '../harness/runner.js'
import { kubectl, requireTestbed } from './testbed.js'

const tb = requireTestbed('KUBECONFIG', 'KUBECTL')
jest.setTimeout(600_000)
const BASE = join(REPO_ROOT, 'otlp-client/k8s/base')

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubectl JSON, read field by field
const json = (...args: string[]): Record<string, any> => JSON.parse(kubectl('get', ...args, '-o', 'json'))

const namespaces: string[] = []
afterAll(() => {
  for (const ns of namespaces) {
    try {
      kubectl('delete', 'namespace', ns, '--wait=false')
    } catch {
      // best effort
    }
  }
})

/**
 * The base rendered by kubectl's kustomize into namespace `ns`, through an overlay that may replace
 * config.toml (as an environment overlay would). Returns the folder holding the one manifest file.
 */
function renderBase(ns: string, configToml?: string): string {
  const overlay = mkdtempSync(join(tmpdir(), 'deploy-assets-overlay-'))
  const lines = [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `namespace: ${ns}`,
    'resources:',
    `  - ${relative(overlay, BASE)}`
  ]
  if (configToml !== undefined) {
    writeFileSync(join(overlay, 'config.toml'), configToml)
    lines.push(
      'configMapGenerator:',
      '  - name: otlp-client-config',
      '    namespace: otlp-system',
      '    behavior: replace',
      '    files: [config.toml]'
    )
  }
  writeFileSync(join(overlay, 'kustomization.yaml'), lines.join('\n') + '\n')
  const manifests = join(overlay, 'rendered')
  mkdirSync(manifests)
  writeFileSync(join(manifests, 'otlp-client.yaml'), kubectl('kustomize', overlay))
  return manifests
}

async function rollout(ns: string, manifests: string): Promise<ActionRun> {
  return runAction({
    action: 'rollout',
    inputs: { manifests, namespace: ns, timeout: '3m', 'doom-grace': '30s' },
    env: { KUBECONFIG: tb.KUBECONFIG },
    timeoutMs: 300_000
  })
}

/**
 * Polls `probe` every 500 ms until it returns true; fails with `what` after `ms`. An error counts as
 * "not yet" (other suites restart the test bed's API server), and the last one is reported.
 */
async function waitFor(what: string, probe: () => boolean, ms = 180_000): Promise<void> {
  const deadline = Date.now() + ms
  let last = ''
  for (;;) {
    try {
      if (probe()) return
    } catch (e) {
      last = `; last error: ${(e as Error).message.split('\n').slice(0, 2).join(' ')}`
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000}s waiting for ${what}${last}`)
    await new Promise(r => setTimeout(r, 500))
  }
}

const readyReplicas = (ns: string): number =>
  json('deployment/otlp-client', '-n', ns).status.readyReplicas ?? 0

const explain = (r: ActionRun): string =>
  `exit ${r.exitCode}\noutputs ${JSON.stringify(r.outputs, null, 1)}\nlog:\n${r.log.slice(-6000)}`

function newNamespace(name: string): string {
  const ns = `otlp-${name}-${process.pid % 10000}`
  namespaces.push(ns)
  return ns
}

beforeAll(() => {
  kubectl('apply', '--server-side', '-f', join(REPO_ROOT, 'otlp-client/k8s/testing/crds'))
  kubectl(
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/servicemonitors.monitoring.coreos.com',
    'crd/prometheusrules.monitoring.coreos.com'
  )
})

describe('otlp-client base through the rollout action', () => {
  it('creates every object of the base and ends with 3 available replicas and no API token', async () => {
    const ns = newNamespace('base')
    const r = await rollout(ns, renderBase(ns))
    expect({ result: r.outputs.result, log: r.exitCode === 0 ? '' : explain(r) }).toEqual({
      result: 'success',
      log: ''
    })
    const applied = JSON.parse(r.outputs.applied!) as { kind: string; action: string }[]
    expect(applied.map(o => o.kind).sort()).toEqual(
      [
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'Namespace',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'PrometheusRule',
        'Service',
        'ServiceAccount',
        'ServiceMonitor'
      ].sort()
    )
    // The manifest leaves the count to the HPA, which raises it to minReplicas.
    await waitFor('the HPA to bring otlp-client to 3 ready replicas', () => readyReplicas(ns) === 3)
    const d = json('deployment/otlp-client', '-n', ns)
    expect(d.status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3 })
    const pods = json('pods', '-n', ns, '-l', 'app.kubernetes.io/name=otlp-client').items
    expect(pods).toHaveLength(3)
    for (const pod of pods) {
      const volumes = (pod.spec.volumes ?? []).map((v: { name: string }) => v.name)
      expect(volumes.filter((v: string) => v.startsWith('kube-api-access'))).toEqual([])
    }
    expect(json(`namespace/${ns}`).metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted')
  })

  it('rolls the Deployment on a config.toml change and keeps the replica count the HPA chose', async () => {
    const ns = newNamespace('config')
    let r = await rollout(ns, renderBase(ns))
    expect({ result: r.outputs.result, log: r.exitCode === 0 ? '' : explain(r) }).toEqual({
      result: 'success',
      log: ''
    })
    await waitFor('3 ready replicas', () => readyReplicas(ns) === 3)
    // What the HPA does under load: a write to the scale subresource. A `replicas` in the manifest
    // would now conflict with it (server-side apply) and fail the next release.
    kubectl('scale', 'deployment/otlp-client', '-n', ns, '--replicas=4')
    await waitFor('4 ready replicas', () => readyReplicas(ns) === 4)
    const before = json('deployment/otlp-client', '-n', ns).spec.template.spec.volumes[0].configMap.name
    const changed = readFileSync(join(BASE, 'config.toml'), 'utf8').replace(
      'batch_size = 100',
      'batch_size = 200'
    )
    r = await rollout(ns, renderBase(ns, changed))
    expect({ result: r.outputs.result, log: r.exitCode === 0 ? '' : explain(r) }).toEqual({
      result: 'success',
      log: ''
    })
    expect(r.outputs).toMatchObject({ revision: '2', 'previous-revision': '1' })
    const after = json('deployment/otlp-client', '-n', ns).spec.template.spec.volumes[0].configMap.name
    expect(after).not.toBe(before)
    expect(json(`configmap/${after}`, '-n', ns).data['config.toml']).toContain('batch_size = 200')
    expect(json('deployment/otlp-client', '-n', ns).spec.replicas).toBe(4)
  })
})
