// Every `manifests` path this repository documents for the bundled relay (the reusable workflow's
// defaults, the caller examples, the local-action env, the README and docs snippets) rolled out for
// real with the rollout bundle on the test bed (kwok plays the kubelets), as a user who copies it
// would: kustomize overlays are rendered by the test bed's kubectl (built by its own scripts). The
// Prometheus Operator CRDs are stood in for by otlp-client/k8s/testing/crds/.
import { jest } from '@jest/globals'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { parse } from 'yaml'
import { REPO_ROOT, runAction } from '../harness/runner.js'
import { kubectl, requireTestbed } from './testbed.js'

jest.setTimeout(900_000)
const tb = requireTestbed('KUBECONFIG', 'KUBECTL')
const IMAGE = `registry.testbed.invalid/otlp-client@sha256:${'ab'.repeat(32)}`

/** The `manifests` values of this suite's steps and calls in a workflow (static values only). */
function workflowManifests(text: string): string[] {
  const found: string[] = []
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit)
    if (!node || typeof node !== 'object') return
    const o = node as Record<string, unknown>
    const w = o.with as Record<string, unknown> | undefined
    if (
      typeof o.uses === 'string' &&
      o.uses.includes('otlp-deploy-actions') &&
      typeof w?.manifests === 'string'
    )
      found.push(w.manifests)
    Object.values(o).forEach(visit)
  }
  visit(parse(text))
  return found
}

/** Where each documented path is documented, path -> places. */
function documentedPaths(): Map<string, string[]> {
  const places = new Map<string, string[]>()
  const note = (value: string, where: string) => {
    for (const line of value.split('\n').map(l => l.trim())) {
      if (!line.startsWith('otlp-client/')) continue
      places.set(line, [...(places.get(line) ?? []), where])
    }
  }
  const deploy = parse(readFileSync(join(REPO_ROOT, '.github/workflows/deploy.yml'), 'utf8')) as {
    on: Record<string, { inputs: { manifests: { default: string } } }>
  }
  note(deploy.on.workflow_call!.inputs.manifests.default, 'deploy.yml workflow_call default')
  note(deploy.on.workflow_dispatch!.inputs.manifests.default, 'deploy.yml workflow_dispatch default')
  for (const f of readdirSync(join(REPO_ROOT, 'workflows-examples')))
    for (const v of workflowManifests(readFileSync(join(REPO_ROOT, 'workflows-examples', f), 'utf8')))
      note(v, `workflows-examples/${f}`)
  const env = readFileSync(join(REPO_ROOT, 'examples/local-action/rollout.env'), 'utf8')
  note(/^INPUT_MANIFESTS=(.*)$/m.exec(env)?.[1] ?? '', 'examples/local-action/rollout.env')
  const docs = [
    'README.md',
    ...readdirSync(join(REPO_ROOT, 'docs'))
      .filter(f => f.endsWith('.md'))
      .map(f => `docs/${f}`)
  ]
  for (const f of docs) {
    const text = readFileSync(join(REPO_ROOT, f), 'utf8')
    for (const block of text.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
      try {
        for (const v of workflowManifests(block[1]!)) note(v, f)
      } catch {
        // a partial snippet that is not YAML on its own: docs-snippets.test.ts is about those
      }
    }
  }
  return places
}

const documented = documentedPaths()

beforeAll(() => {
  kubectl('apply', '--server-side', '-f', join(REPO_ROOT, 'otlp-client/k8s/testing/crds'))
})
afterAll(() => {
  try {
    kubectl('delete', 'namespace', 'otlp-system', '--wait=false', '--ignore-not-found')
  } catch {
    // best effort
  }
})

describe('every documented manifests path rolls out on the test bed', () => {
  it('documents the overlays and the base, and no folder that cannot be deployed', () => {
    expect([...documented.keys()].sort()).toEqual(
      expect.arrayContaining(['otlp-client/k8s/overlays/production', 'otlp-client/k8s/overlays/staging'])
    )
    expect([...documented.keys()].filter(p => p === 'otlp-client/k8s')).toEqual([])
  })

  it.each([...documented.entries()].map(([path, where]) => [path, where.join(', ')]))(
    '%s (documented in %s): rendered, applied and ready',
    async path => {
      const r = await runAction({
        action: 'rollout',
        inputs: { manifests: path, images: `otlp-client=${IMAGE}`, timeout: '4m', 'doom-grace': '30s' },
        env: { KUBECONFIG: tb.KUBECONFIG!, PATH: `${dirname(tb.KUBECTL!)}:${process.env.PATH ?? ''}` },
        timeoutMs: 400_000
      })
      expect({
        exit: r.exitCode,
        result: r.outputs.result,
        log: r.exitCode ? r.log.slice(-4000) : ''
      }).toEqual({
        exit: 0,
        result: 'success',
        log: ''
      })
      const deployment = JSON.parse(
        kubectl('get', 'deployment/otlp-client', '-n', 'otlp-system', '-o', 'json')
      ) as {
        spec: { template: { spec: { containers: { name: string; image: string }[] } } }
      }
      expect(deployment.spec.template.spec.containers.find(c => c.name === 'otlp-client')?.image).toBe(IMAGE)
      // The ConfigMap kustomize generated (named with a hash of config.toml) exists.
      expect(kubectl('get', 'configmaps', '-n', 'otlp-system', '-o', 'name')).toMatch(
        /configmap\/otlp-client-config-[a-z0-9]{10}/
      )
    }
  )
})
