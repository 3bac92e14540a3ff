/**
 * The one-step root action end to end on the test bed, through the runner-faithful harness: it
 * builds and pushes an image with BuildKit to the authenticated registry, pins the pushed digest
 * into the named container, rolls the Deployment out on the kwok nodes, and when the next release
 * crash-loops it rolls back to the previous digest and fails the step.
 */
import { jest } from '@jest/globals'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { leaksSecret, runAction, type ActionRun } from '../harness/runner.js'
import { kubectl, requireTestbed } from './testbed.js'

jest.setTimeout(900_000)
const tb = requireTestbed(
  'KUBECONFIG',
  'KUBECTL',
  'REGISTRY',
  'REGISTRY_USERNAME',
  'REGISTRY_PASSWORD',
  'BUILDX_BUILDER',
  'DOCKER_CONFIG',
  'TESTBED_BASE_IMAGE'
)
const nonce = `${process.pid}-${Date.now().toString(36)}`
const ns = `deploy-e2e-${Date.now().toString(36)}`
const image = `${tb.REGISTRY}/e2e/one-step`

/** A workspace holding the service's Dockerfile and its Deployment, released with `behavior`. */
function workspace(behavior: string, message: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-deploy-'))
  mkdirSync(join(dir, 'service'))
  mkdirSync(join(dir, 'deploy'))
  writeFileSync(
    join(dir, 'service', 'Dockerfile'),
    `ARG BASE\nFROM \${BASE}\nRUN echo "${message}" > /release && cat /release\n`
  )
  writeFileSync(
    join(dir, 'deploy', 'app.yaml'),
    `apiVersion: apps/v1
kind: Deployment
metadata:
  name: relay
spec:
  replicas: 2
  selector:
    matchLabels: {app: relay}
  template:
    metadata:
      labels: {app: relay, testbed/behavior: ${behavior}}
    spec:
      containers:
        - name: relay
          image: placeholder.invalid/relay:unpinned
`
  )
  return dir
}

function deploy(behavior: string, message: string, extra: Record<string, string> = {}): Promise<ActionRun> {
  return runAction({
    action: 'deploy',
    cwd: workspace(behavior, message),
    inputs: {
      context: 'service',
      images: image,
      tags: 'type=sha',
      platforms: 'linux/amd64',
      'build-args': `BASE=${tb.TESTBED_BASE_IMAGE}`,
      builder: 'buildx',
      registry: tb.REGISTRY!,
      username: tb.REGISTRY_USERNAME!,
      password: tb.REGISTRY_PASSWORD!,
      manifests: 'deploy/app.yaml',
      namespace: ns,
      containers: 'relay',
      timeout: '3m',
      ...extra
    },
    env: {
      KUBECONFIG: tb.KUBECONFIG,
      DOCKER_CONFIG: tb.DOCKER_CONFIG,
      BUILDX_BUILDER: tb.BUILDX_BUILDER,
      BUILDKIT_HOST: tb.BUILDKIT_HOST
    },
    timeoutMs: 800_000
  })
}

function templateImage(): string {
  return kubectl(
    'get',
    'deployment',
    'relay',
    '-n',
    ns,
    '-o',
    'jsonpath={.spec.template.spec.containers[0].image}'
  )
}

beforeAll(() => kubectl('create', 'namespace', ns))
afterAll(() => kubectl('delete', 'namespace', ns, '--wait=false'))

describe('the one-step action', () => {
  let firstRef = ''

  it('builds, pushes, pins the pushed digest and rolls out', async () => {
    const run = await deploy('ready', `first ${nonce}`)
    expect(run.annotations.filter(a => a.level === 'error')).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(run.outputs['image-ref']).toBe(`${image}@${run.outputs.digest}`)
    expect(run.outputs.result).toBe('success')
    expect(run.outputs['rolled-back']).toBe('false')
    firstRef = run.outputs['image-ref']!
    expect(templateImage()).toBe(firstRef)
    expect(leaksSecret(run, tb.REGISTRY_PASSWORD!)).toBe(false)
  })

  it('rolls a crash-looping release back to the previous digest and fails the step', async () => {
    expect(firstRef).not.toBe('')
    const run = await deploy('crashloop', `second ${nonce}`)
    expect(run.exitCode).toBe(1)
    expect(run.outputs['image-ref']).not.toBe(firstRef)
    expect(run.outputs.result).toBe('rolled-back')
    expect(run.outputs['rolled-back']).toBe('true')
    expect(run.outputs['failure-reason']).toMatch(/CrashLoopBackOff|exited with code 1/)
    expect(templateImage()).toBe(firstRef)
    const errors = run.annotations.filter(a => a.level === 'error').map(a => a.message)
    expect(errors.join('\n')).toMatch(/rolled back/)
  })

  it('refuses bad inputs of both halves before building anything', async () => {
    const run = await deploy('ready', 'never built', {
      containers: '',
      'build-timeout': 'soon',
      timeout: 'later'
    })
    expect(run.exitCode).toBe(1)
    const error = run.annotations.find(a => a.level === 'error')?.message ?? ''
    expect(error).toMatch(/containers: is required/)
    expect(error).toMatch(/build-timeout: "soon" is not a duration/)
    expect(error).toMatch(/timeout: "later" is not a duration/)
    expect(run.outputs).toEqual({})
  })

  it('checks the deploy half before building: a broken kubeconfig or a missing manifest pushes nothing', async () => {
    const tag = `never-pushed-${nonce}`
    const tags = async () => {
      const auth = Buffer.from(`${tb.REGISTRY_USERNAME}:${tb.REGISTRY_PASSWORD}`).toString('base64')
      const res = await fetch(`http://${tb.REGISTRY}/v2/e2e/one-step/tags/list`, {
        headers: { Authorization: `Basic ${auth}` }
      })
      return res.ok ? (((await res.json()) as { tags?: string[] }).tags ?? []) : []
    }
    const broken = await deploy('ready', 'never built', {
      tags: `type=raw,value=${tag}`,
      'kube-context': 'no-such-context'
    })
    expect(broken.exitCode).toBe(1)
    expect(broken.log).toMatch(/context "no-such-context" is not in KUBECONFIG/)
    expect(broken.log).not.toMatch(/Build .* with buildx/)
    const missing = await deploy('ready', 'never built', {
      tags: `type=raw,value=${tag}`,
      manifests: 'deploy/missing.yaml'
    })
    expect(missing.exitCode).toBe(1)
    expect(missing.log).toMatch(/deploy\/missing\.yaml/)
    expect(await tags()).not.toContain(tag)
  })
})
