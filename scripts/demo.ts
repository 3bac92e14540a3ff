/**
 * `make demo`: the whole path for the bundled otlp-client on the local test bed, each step run by
 * the committed action bundles exactly as the GitHub runner runs them (the test harness):
 *   1. tests with coverage (actions/test-coverage, cargo preset, with clippy and rustfmt)
 *   2. a two-platform image build and push (actions/image-build, buildx, authenticated registry)
 *   3. the released image started by Docker on the host and smoke-tested on /health
 *   4. a rollout of the Kubernetes base pinned by the new digest (actions/rollout)
 *   5. a broken release (its pods crash-loop) detected and rolled back, and the rollback proven
 * Then a summary with timings. Safe to run again: every step converges on the same state.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments, stringify } from 'yaml'
import { runAction, REPO_ROOT, type ActionRun } from '../__tests__/harness/runner.js'
import {
  createPullSecret,
  kubectl,
  pinToRealNode,
  requireTestbed,
  type RenderedObject
} from '../__tests__/e2e/testbed.js'

interface Step {
  name: string
  outcome: string
  seconds: number
  ok: boolean
}
const steps: Step[] = []
const work = join(REPO_ROOT, '.testbed', 'demo')
mkdirSync(work, { recursive: true })

function banner(text: string): void {
  console.log(`\n\x1b[1m== ${text}\x1b[0m`)
}

function show(run: ActionRun, keys: string[]): void {
  for (const k of keys)
    if (run.outputs[k] !== undefined) console.log(`   ${k}: ${run.outputs[k].split('\n').join(', ')}`)
  for (const a of run.annotations.filter(a => a.level === 'error'))
    console.log(`   error: ${a.message.split('\n')[0]}`)
}

async function step(name: string, fn: () => Promise<{ ok: boolean; outcome: string }>): Promise<boolean> {
  banner(name)
  const started = Date.now()
  let result: { ok: boolean; outcome: string }
  try {
    result = await fn()
  } catch (err) {
    result = { ok: false, outcome: (err as Error).message.split('\n')[0]! }
  }
  const seconds = (Date.now() - started) / 1000
  steps.push({ name, ...result, seconds })
  console.log(`   ${result.ok ? '✔' : '✘'} ${result.outcome} (${seconds.toFixed(1)} s)`)
  return result.ok
}

const tb = requireTestbed(
  'KUBECONFIG',
  'KUBECTL',
  'REGISTRY',
  'REGISTRY_USERNAME',
  'REGISTRY_PASSWORD',
  'DOCKER_HOST'
)
const toolEnv: Record<string, string> = {
  KUBECONFIG: tb.KUBECONFIG!,
  DOCKER_CONFIG: tb.DOCKER_CONFIG ?? '',
  DOCKER_HOST: tb.DOCKER_HOST!,
  BUILDX_BUILDER: tb.BUILDX_BUILDER ?? '',
  BUILDKIT_HOST: tb.BUILDKIT_HOST ?? '',
  CONTAINERS_STORAGE_CONF: tb.CONTAINERS_STORAGE_CONF ?? '',
  CONTAINERS_CONF: tb.CONTAINERS_CONF ?? '',
  REGISTRY_AUTH_FILE: tb.REGISTRY_AUTH_FILE ?? ''
}
const namespace = 'otlp-demo'
const image = `${tb.REGISTRY}/demo/otlp-client`
const smokePort = 18080
let imageRef = ''

// With the test bed's real node, the release runs there for real (kubelet, containerd, kube-proxy) and
// the smoke test goes through a NodePort; without it (TESTBED_REAL_NODE=0) on KWOK's simulated nodes.
const realNode = tb.TESTBED_REAL_NODE ?? ''
const nodePort = 30080

/** Pins the release to the real node (see pinToRealNode); `broken`: its container exits 1. */
function onRealNode(obj: RenderedObject, broken: boolean): void {
  pinToRealNode(tb, obj, { nodePort, pullSecret: 'registry' })
  const container = obj.kind === 'Deployment' ? obj.spec?.template?.spec?.containers?.[0] : undefined
  // The broken release: `otlp-client health` asks a relay that is not running and exits 1, every time.
  if (broken && container) container.args = ['health']
}

/** The kustomize base rendered into one file, in the demo namespace; `broken` makes its pods crash-loop. */
function renderRelease(file: string, broken = false): string {
  const docs = parseAllDocuments(kubectl('kustomize', join(REPO_ROOT, 'otlp-client/k8s/base')))
  const out: string[] = []
  for (const doc of docs) {
    const obj = doc.toJS() as RenderedObject | null
    if (!obj) continue
    if (obj.metadata && obj.kind === 'Namespace') obj.metadata.name = namespace
    else if (obj.metadata) obj.metadata.namespace = namespace
    if (obj.kind === 'RoleBinding')
      for (const s of obj.subjects ?? []) if (s.namespace) s.namespace = namespace
    if (realNode) onRealNode(obj, broken)
    const labels = obj.spec?.template?.metadata?.labels
    if (!realNode && broken && obj.kind === 'Deployment' && labels) labels['testbed/behavior'] = 'crashloop'
    out.push(stringify(obj))
  }
  return writeManifest(file, out.join('---\n'))
}

function writeManifest(file: string, text: string): string {
  const path = join(work, file)
  writeFileSync(path, text)
  return path
}

async function main(): Promise<void> {
  console.log(
    'otlp-deploy-actions demo on the local test bed (kubernetes, registry and builders on 127.0.0.1)'
  )
  // The base carries a ServiceMonitor and a PrometheusRule: the test bed has no Prometheus operator,
  // so it gets the two CRDs the deploy assets are validated against.
  kubectl('apply', '--server-side', '-f', join(REPO_ROOT, 'otlp-client/k8s/testing/crds'))

  await step('1. Tests with coverage: actions/test-coverage (cargo preset on otlp-client)', async () => {
    const peers = execFileSync('bash', [join(REPO_ROOT, 'otlp-client/scripts/peers.sh'), 'otelcol'], {
      encoding: 'utf8'
    })
    const otelcol = /OTELCOL_BIN=(\S+)/.exec(peers)?.[1] ?? ''
    const run = await runAction({
      action: 'test-coverage',
      inputs: { preset: 'cargo', 'working-directory': 'otlp-client', lint: 'true', 'min-coverage': '50' },
      env: { OTELCOL_BIN: otelcol, CARGO_HOME: process.env.CARGO_HOME, RUSTUP_HOME: process.env.RUSTUP_HOME },
      timeoutMs: 40 * 60_000
    })
    show(run, ['coverage', 'tests', 'failures', 'report'])
    return {
      ok: run.exitCode === 0,
      outcome: `${run.outputs.tests ?? '?'} tests, line coverage ${run.outputs.coverage ?? '?'}%`
    }
  })

  await step('2. Image build and push: actions/image-build (linux/amd64 + linux/arm64, buildx)', async () => {
    execFileSync('bash', [join(REPO_ROOT, 'otlp-client/scripts/build-bin.sh'), 'amd64', 'arm64'], {
      stdio: 'inherit'
    })
    const run = await runAction({
      action: 'image-build',
      inputs: {
        context: 'otlp-client',
        target: 'prebuilt',
        images: image,
        platforms: 'linux/amd64,linux/arm64',
        tags: 'type=sha\ntype=raw,value=demo',
        'build-args': `RUNTIME_IMAGE=${tb.TESTBED_BASE_IMAGE ?? 'scratch'}`,
        builder: 'buildx',
        registry: tb.REGISTRY!,
        username: tb.REGISTRY_USERNAME!,
        password: tb.REGISTRY_PASSWORD!
      },
      env: toolEnv,
      timeoutMs: 20 * 60_000
    })
    show(run, ['image-ref', 'tags'])
    imageRef = run.outputs['image-ref'] ?? ''
    return { ok: run.exitCode === 0 && imageRef !== '', outcome: imageRef || 'no image pushed' }
  })

  await step('3. The released image answers /health (docker run on the host)', async () => {
    if (!imageRef) return { ok: false, outcome: 'skipped: no image' }
    const docker = (...args: string[]) =>
      spawnSync('docker', args, { env: { ...process.env, ...toolEnv }, encoding: 'utf8' })
    // The image-build step logged in with a private config that ended with it: Docker pulls with its own.
    const login = spawnSync(
      'docker',
      ['login', '--username', tb.REGISTRY_USERNAME!, '--password-stdin', tb.REGISTRY!],
      {
        env: { ...process.env, ...toolEnv },
        input: tb.REGISTRY_PASSWORD,
        encoding: 'utf8'
      }
    )
    if (login.status !== 0) return { ok: false, outcome: `docker login failed: ${login.stderr.trim()}` }
    docker('rm', '-f', 'otlp-demo')
    const started = docker(
      'run',
      '-d',
      '--name',
      'otlp-demo',
      '--network',
      'host',
      '-e',
      `OTLP_CLIENT_SERVER_HEALTH_ADDR=127.0.0.1:${smokePort}`,
      '-e',
      'OTLP_CLIENT_SERVER_GRPC_ADDR=127.0.0.1:14317',
      '-e',
      'OTLP_CLIENT_SERVER_HTTP_ADDR=127.0.0.1:14318',
      '-e',
      'OTLP_CLIENT_OTLP_ENDPOINT=http://127.0.0.1:14999',
      imageRef
    )
    if (started.status !== 0) return { ok: false, outcome: `docker run failed: ${started.stderr.trim()}` }
    for (let i = 0; i < 50; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${smokePort}/health`)
        if (res.ok)
          return {
            ok: true,
            outcome: `${imageRef.split('@')[1]?.slice(0, 19)}… serves /health: ${res.status}`
          }
      } catch {
        /* not listening yet */
      }
      await new Promise(r => setTimeout(r, 200))
    }
    return { ok: false, outcome: `no answer on /health: ${docker('logs', 'otlp-demo').stderr.slice(-300)}` }
  })

  const rolloutInputs = (manifest: string) => ({
    manifests: manifest,
    namespace,
    images: `otlp-client=${imageRef}`,
    timeout: '5m',
    'smoke-url': realNode
      ? `http://${tb.TESTBED_NODEPORT_HOST}:${nodePort}/health`
      : `http://127.0.0.1:${smokePort}/health`
  })
  const where = realNode ? 'real node' : 'kwok nodes'

  await step(
    `4. Rollout pinned by digest: actions/rollout (kustomize base, 3 replicas, ${where})`,
    async () => {
      if (!imageRef) return { ok: false, outcome: 'skipped: no image' }
      if (realNode) {
        // The pull secret must be there before the pods: the namespace first (the release applies it again).
        const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }
        kubectl('apply', '-f', writeManifest('namespace.yaml', JSON.stringify(ns)))
        createPullSecret(namespace, 'registry')
      }
      const run = await runAction({
        action: 'rollout',
        inputs: rolloutInputs(renderRelease('good.yaml')),
        env: toolEnv,
        timeoutMs: 10 * 60_000
      })
      show(run, ['result', 'revision', 'duration'])
      return {
        ok: run.exitCode === 0 && run.outputs.result === 'success',
        outcome: `result=${run.outputs.result}, revision ${run.outputs.revision}`
      }
    }
  )

  const broken = realNode ? 'its container exits 1' : 'its pods crash-loop'
  await step(`5. A broken release (${broken}) is detected and rolled back`, async () => {
    if (!imageRef) return { ok: false, outcome: 'skipped: no image' }
    const run = await runAction({
      action: 'rollout',
      inputs: rolloutInputs(renderRelease('broken.yaml', true)),
      env: toolEnv,
      timeoutMs: 10 * 60_000
    })
    show(run, ['result', 'revision', 'previous-revision', 'rolled-back', 'duration', 'failure-reason'])
    const proven = run.outputs.result === 'rolled-back' && run.exitCode === 1
    return {
      ok: proven,
      outcome: proven
        ? `failed as it should, rolled back to revision ${run.outputs['previous-revision']} in ${run.outputs.duration}s (progress deadline: 600 s)`
        : `expected result=rolled-back, got ${run.outputs.result}`
    }
  })

  spawnSync('docker', ['rm', '-f', 'otlp-demo'], { env: { ...process.env, ...toolEnv } })
  banner('Summary')
  for (const s of steps)
    console.log(
      ` ${s.ok ? '✔' : '✘'} ${s.name.padEnd(86)} ${s.seconds.toFixed(1).padStart(7)} s  ${s.outcome}`
    )
  console.log(
    `\nJob summaries and the workflow run under act: see docs/workflows.md. Cluster: KUBECONFIG=${tb.KUBECONFIG} ${tb.KUBECTL} -n ${namespace} get deploy,rs,pods`
  )
  if (steps.some(s => !s.ok)) process.exit(1)
}

await main()
