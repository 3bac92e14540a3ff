#!/usr/bin/env node
// Benchmark of the rollout action against plain kubectl on the test bed, in the same run.
//
// 1. Recovery: time from applying a crash-looping release to a healthy previous revision.
//    baseline: kubectl apply; kubectl rollout status (fails at the progress deadline); kubectl rollout
//    undo; kubectl rollout status. action: one run of dist/rollout/index.js. Same manifests, same
//    progressDeadlineSeconds (60), each in a fresh namespace. API requests: kubectl -v=6 lines; the
//    action's own count (printed by the action, counted in its adapter).
// 2. Success latency: delay between the Deployment reaching kubectl's "complete" (seen by a
//    kubectl watch started before the release) and the action printing that the rollout is complete.
//
// 3. With --real-node, the same on the test bed's real worker node: a container that really exits 1
//    under the kubelet (crash-to-rollback time on a real node). Without it, KWOK simulates the crash loop.
//
// Usage: testbed/testbed.sh up && node scripts/build.mjs rollout && node bench/rollout/bench.mjs [--trials N] [--real-node]
// Writes bench/results/rollout.json (or rollout-real-node.json).
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { actionEnv, healthy, bundle, kubectl, median, outputsOf, root, tb, timed } from './lib.mjs'

const KUBECTL = tb.KUBECTL
const KUBECONFIG = tb.KUBECONFIG
const trialsArg = process.argv.indexOf('--trials')
const TRIALS = trialsArg > 0 ? Number(process.argv[trialsArg + 1]) : 1
const REPLICAS = 3
const DEADLINE = 60

// On the real node (testbed/node/node.sh) the release is real: the test bed's busybox image, v1 sleeping
// (Ready at once), v2 exiting 1 at start, so its container really crash-loops under the kubelet.
const REAL = process.argv.includes('--real-node')
if (REAL && !tb.TESTBED_REAL_NODE) {
  console.error('--real-node: .testbed/env names no real node (the test bed ran with TESTBED_REAL_NODE=0)')
  process.exit(2)
}
const PULL_SECRET = 'bench-registry'

/** The release `tag`: on KWOK a pod label picks the simulated behaviour; on the real node a real command. */
function manifest(tag, behavior) {
  const [key, value] = (tb.TESTBED_REAL_NODE_SELECTOR ?? '=').split('=')
  const script = behavior === 'ready' ? 'exec sleep 3600' : 'echo "v2 fails at start" >&2; exit 1'
  const pod = REAL
    ? `
      nodeSelector: {${key}: ${value}}
      tolerations: [{key: testbed/real-node, operator: Exists, effect: NoSchedule}]
      imagePullSecrets: [{name: ${PULL_SECRET}}]
      containers:
      - name: web
        image: ${tb.TESTBED_BASE_IMAGE}
        command: [/bin/sh, -c, '${script}']`
    : `
      containers:
      - name: web
        image: registry.testbed.invalid/otlp-deploy/web:${tag}`
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: ${REPLICAS}
  progressDeadlineSeconds: ${DEADLINE}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, release: ${tag}, testbed/behavior: ${behavior}}}
    spec:
      terminationGracePeriodSeconds: 1${pod}
`
}

let nsCounter = 0
function freshNamespace(prefix) {
  const ns = `bench-${REAL ? 'real-' : ''}${prefix}-${process.pid}-${++nsCounter}`
  kubectl('create', 'namespace', ns)
  if (REAL)
    kubectl('create', 'secret', 'docker-registry', PULL_SECRET, '-n', ns, `--docker-server=${tb.REGISTRY}`,
      `--docker-username=${tb.REGISTRY_USERNAME}`, `--docker-password=${tb.REGISTRY_PASSWORD}`) // prettier-ignore
  return ns
}

/** v1, healthy, deployed the way each side deploys: kubectl's client-side apply, or server-side apply under the action's field manager. */
function prepare(ns, dir, serverSide = false) {
  writeFileSync(join(dir, 'v1.yaml'), manifest('v1', 'ready'))
  writeFileSync(join(dir, 'v2.yaml'), manifest('v2', 'crashloop'))
  const how = serverSide ? ['--server-side', '--field-manager=otlp-deploy-actions'] : []
  kubectl('apply', ...how, '-n', ns, '-f', join(dir, 'v1.yaml'))
  kubectl('rollout', 'status', '-n', ns, 'deployment/web', '--timeout=120s')
}

async function baseline(dir) {
  const ns = freshNamespace('kubectl')
  prepare(ns, dir)
  const k = ['--kubeconfig', KUBECONFIG, '-n', ns, '-v=6']
  const steps = []
  steps.push(await timed(KUBECTL, [...k, 'apply', '-f', join(dir, 'v2.yaml')]))
  steps.push(await timed(KUBECTL, [...k, 'rollout', 'status', 'deployment/web', '--timeout=10m']))
  steps.push(await timed(KUBECTL, [...k, 'rollout', 'undo', 'deployment/web']))
  steps.push(await timed(KUBECTL, [...k, 'rollout', 'status', 'deployment/web', '--timeout=10m']))
  const ms = steps.reduce((a, s) => a + s.ms, 0)
  const ok = steps[1].code !== 0 && steps[3].code === 0 && healthy(ns, REPLICAS)
  kubectl('delete', 'namespace', ns, '--wait=false')
  return {
    ms,
    requests: steps.reduce((a, s) => a + s.requests, 0),
    ok,
    detectedFailureAfterMs: steps[0].ms + steps[1].ms
  }
}

async function action(dir) {
  const ns = freshNamespace('action')
  prepare(ns, dir, true)
  const { env, outputFile } = actionEnv({ manifests: join(dir, 'v2.yaml'), namespace: ns })
  const r = await timed(process.execPath, [bundle], { env })
  const outputs = outputsOf(outputFile)
  const requests = Number(/(\d+) API requests/.exec(r.stdout)?.[1] ?? NaN)
  const ok = outputs.result === 'rolled-back' && healthy(ns, REPLICAS)
  kubectl('delete', 'namespace', ns, '--wait=false')
  return { ms: r.ms, requests, ok, result: outputs.result, failureReason: outputs['failure-reason'] }
}

/** Delay between kubectl's "complete" for the Deployment and the action's success line. */
async function successLatency(dir) {
  const ns = freshNamespace('latency')
  prepare(ns, dir, true)
  writeFileSync(join(dir, 'v3.yaml'), manifest('v3', 'ready'))
  // Watch the Deployment with kubectl and stamp the first event where kubectl's rules say complete.
  const watch = spawn(
    KUBECTL,
    [
      '--kubeconfig',
      KUBECONFIG,
      '-n',
      ns,
      'get',
      'deployment/web',
      '-w',
      '-o',
      'json',
      '--output-watch-events'
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let completeAt
  let buf = ''
  let depth = 0
  let start = 0
  let generationBefore
  watch.stdout.on('data', d => {
    const now = performance.now()
    const text = String(d)
    // kubectl prints pretty JSON objects back to back: split them by brace depth.
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]
      if (ch === '{') {
        if (depth === 0) start = buf.length
        depth++
      } else if (ch === '}') depth--
      buf += ch
      if (depth === 0 && ch === '}') {
        const ev = JSON.parse(buf.slice(start))
        buf = ''
        const o = ev.object
        if (generationBefore === undefined) generationBefore = o.metadata.generation
        const s = o.status ?? {}
        const complete =
          o.metadata.generation > generationBefore &&
          o.metadata.generation <= (s.observedGeneration ?? 0) &&
          (s.updatedReplicas ?? 0) >= o.spec.replicas &&
          (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) &&
          (s.availableReplicas ?? 0) >= (s.updatedReplicas ?? 0)
        if (complete && completeAt === undefined) completeAt = now
      }
    }
  })
  await new Promise(r => setTimeout(r, 1000))
  const { env } = actionEnv({ manifests: join(dir, 'v3.yaml'), namespace: ns })
  const r = await timed(process.execPath, [bundle], { env })
  watch.kill('SIGTERM')
  const reported = r.lines.find(l => l.line.startsWith('rollout complete:'))?.t
  const requests = Number(/(\d+) API requests/.exec(r.stdout)?.[1] ?? NaN)
  kubectl('delete', 'namespace', ns, '--wait=false')
  return {
    ok: r.code === 0 && completeAt !== undefined && reported !== undefined,
    delayMs: reported - completeAt,
    requests
  }
}

/** kubectl's requests for the same good release: apply, then rollout status until complete. */
async function baselineGood(dir) {
  const ns = freshNamespace('kubectl-good')
  prepare(ns, dir)
  writeFileSync(join(dir, 'v3.yaml'), manifest('v3', 'ready'))
  const k = ['--kubeconfig', KUBECONFIG, '-n', ns, '-v=6']
  const apply = await timed(KUBECTL, [...k, 'apply', '-f', join(dir, 'v3.yaml')])
  const status = await timed(KUBECTL, [...k, 'rollout', 'status', 'deployment/web', '--timeout=10m'])
  kubectl('delete', 'namespace', ns, '--wait=false')
  return { ok: apply.code === 0 && status.code === 0, requests: apply.requests + status.requests }
}

const dir = mkdtempSync(join(tmpdir(), 'bench-manifests-'))
const trials = []
for (let i = 0; i < TRIALS; i++) {
  console.log(`trial ${i + 1}/${TRIALS}: kubectl apply + rollout status + undo + rollout status ...`)
  const base = await baseline(dir)
  console.log(`  kubectl: ${(base.ms / 1000).toFixed(1)}s, ${base.requests} API requests, ok=${base.ok}`)
  console.log(`trial ${i + 1}/${TRIALS}: rollout action ...`)
  const act = await action(dir)
  console.log(
    `  action: ${(act.ms / 1000).toFixed(1)}s, ${act.requests} API requests, result=${act.result}, ok=${act.ok}`
  )
  const lat = await successLatency(dir)
  console.log(`  success latency: ${lat.delayMs.toFixed(0)} ms after kubectl's complete, ok=${lat.ok}`)
  const good = await baselineGood(dir)
  console.log(`  good release: kubectl ${good.requests} API requests, action ${lat.requests}`)
  trials.push({ baseline: base, action: act, successLatency: lat, baselineGood: good })
}
const baseMs = median(trials.map(t => t.baseline.ms))
const actMs = median(trials.map(t => t.action.ms))
const result = {
  benchmark: `rollout: crash-looping release to healthy previous revision${REAL ? ' on the real node' : ''}`,
  node: REAL
    ? `${tb.TESTBED_REAL_NODE} (kubelet, containerd, a container that exits 1)`
    : 'kwok (simulated crash loop)',
  date: new Date().toISOString(),
  testbed: tb.TESTBED_K8S_VERSION,
  replicas: REPLICAS,
  progressDeadlineSeconds: DEADLINE,
  trials: TRIALS,
  baseline: {
    name: 'kubectl apply + rollout status + rollout undo + rollout status',
    medianSeconds: +(baseMs / 1000).toFixed(2),
    apiRequests: trials.map(t => t.baseline.requests)
  },
  action: {
    name: 'rollout action (fail fast + automatic rollback)',
    medianSeconds: +(actMs / 1000).toFixed(2),
    apiRequests: trials.map(t => t.action.requests)
  },
  ratio: +(actMs / baseMs).toFixed(3),
  goalRatio: 0.3,
  apiRequestsPerRelease: {
    good: {
      kubectl: trials.map(t => t.baselineGood.requests),
      action: trials.map(t => t.successLatency.requests)
    },
    failed: { kubectl: trials.map(t => t.baseline.requests), action: trials.map(t => t.action.requests) }
  },
  successLatencyMs: trials.map(t => +t.successLatency.delayMs.toFixed(0)),
  goalSuccessLatencyMs: 500,
  allOk: trials.every(t => t.baseline.ok && t.action.ok && t.successLatency.ok && t.baselineGood.ok),
  raw: trials
}
const out = REAL ? 'bench/results/rollout-real-node.json' : 'bench/results/rollout.json'
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, out), JSON.stringify(result, null, 2) + '\n')
console.log(
  `\nkubectl ${result.baseline.medianSeconds}s vs action ${result.action.medianSeconds}s: ratio ${result.ratio} (goal <= 0.3); ` +
    `API requests kubectl ${result.baseline.apiRequests.join('/')} vs action ${result.action.apiRequests.join('/')}; ` +
    `success latency ${result.successLatencyMs.join('/')} ms (goal < 500)`
)
console.log(`wrote ${out}`)
if (!result.allOk) {
  console.error('some run did not end as expected (see raw in the JSON)')
  process.exit(1)
}
