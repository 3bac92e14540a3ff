#!/usr/bin/env node
// Benchmark of the rollout's verdicts on the test bed's real node (kubelet, containerd), in one run:
//
// 1. Termination to verdict: a release whose container exits 1 at start; the time from the first
//    termination of a new container (the kubelet's `finishedAt`, which has whole seconds) to the
//    action printing its verdict. finishedAt is rounded down, so the figure is an upper bound of the
//    true delay. Also: from the first pod status carrying that termination (as a watch received it)
//    to the verdict, the action's own reaction time. Goal: under 1 s.
// 2. Crash to healthy previous revision, side by side with Helm 4 on the same chart:
//    `helm upgrade --install --rollback-on-failure` at its default timeout (5m) against this action
//    applying the chart as `helm template` renders it. Both start from the same healthy release.
//
// Usage: testbed/testbed.sh up && node scripts/build.mjs rollout && node bench/rollout/verdicts.mjs [--trials N] [--helm-trials N]
// Writes bench/results/rollout-verdicts.json. Helm 4 is built from its Go module (otlp-client/tools/helm4), cached.
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { actionEnv, healthy, argValue, bundle, kubectl, median, outputsOf, root, tb, timed } from './lib.mjs'

if (!tb.TESTBED_REAL_NODE) {
  console.error(
    '.testbed/env names no real node (the test bed ran with TESTBED_REAL_NODE=0): nothing to measure'
  )
  process.exit(2)
}
const TRIALS = Number(argValue('--trials', '3'))
const HELM_TRIALS = Number(argValue('--helm-trials', '1'))
const HELM_VERSION = 'v4.3.1'
const REPLICAS = 2
const PULL_SECRET = 'bench-registry'
const [nodeKey, nodeValue] = tb.TESTBED_REAL_NODE_SELECTOR.split('=')

const helm = execFileSync(
  'bash',
  [
    '-c',
    `. scripts/lib.sh && go_tool helm ${HELM_VERSION} otlp-client/tools/helm4 helm.sh/helm/v4/cmd/helm -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}"`
  ],
  { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }
).trim()

// The machine's boot time on the epoch clock: the real node's containers share this kernel, so a
// container's /proc/uptime says when it exited to within 10 ms.
const bootTime = Date.now() - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000

let counter = 0
function freshNamespace(prefix) {
  const ns = `bench-verdict-${prefix}-${process.pid}-${++counter}`
  kubectl('create', 'namespace', ns)
  kubectl('create', 'secret', 'docker-registry', PULL_SECRET, '-n', ns, `--docker-server=${tb.REGISTRY}`,
    `--docker-username=${tb.REGISTRY_USERNAME}`, `--docker-password=${tb.REGISTRY_PASSWORD}`) // prettier-ignore
  return ns
}

/** The chart both sides deploy: one Deployment on the real node; `crash=true` makes its container exit 1. */
function writeChart(dir) {
  mkdirSync(join(dir, 'web/templates'), { recursive: true })
  writeFileSync(join(dir, 'web/Chart.yaml'), 'apiVersion: v2\nname: web\nversion: 0.1.0\n')
  writeFileSync(join(dir, 'web/values.yaml'), 'crash: false\nrelease: v1\n')
  writeFileSync(
    join(dir, 'web/templates/deployment.yaml'),
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: ${REPLICAS}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, release: {{ .Values.release | quote }}}}
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: {${nodeKey}: "${nodeValue}"}
      tolerations: [{key: testbed/real-node, operator: Exists, effect: NoSchedule}]
      imagePullSecrets: [{name: ${PULL_SECRET}}]
      containers:
      - name: web
        image: ${tb.TESTBED_BASE_IMAGE}
        {{- if .Values.crash }}
        command: [/bin/sh, -c, 'echo "v2 fails at start" >&2; cut -d" " -f1 /proc/uptime > /dev/termination-log; exit 1']
        {{- else }}
        command: [/bin/sh, -c, 'exec sleep 3600']
        {{- end }}
`
  )
  return join(dir, 'web')
}

function render(chart, ns, values) {
  return execFileSync(
    helm,
    ['template', 'web', chart, '--namespace', ns, ...values.flatMap(v => ['--set', v])],
    {
      encoding: 'utf8'
    }
  )
}

/** Watches the namespace's pods; remembers the first termination of a v2 container and when a watch saw it. */
function watchTerminations(ns) {
  const watch = spawn(
    tb.KUBECTL,
    ['--kubeconfig', tb.KUBECONFIG, '-n', ns, 'get', 'pods', '-w', '-o', 'json'],
    {
      stdio: ['ignore', 'pipe', 'ignore']
    }
  )
  const seen = { finishedAt: undefined, seenAt: undefined, exitedAt: undefined }
  let buf = ''
  let depth = 0
  watch.stdout.on('data', d => {
    const now = performance.timeOrigin + performance.now()
    for (const ch of String(d)) {
      if (ch === '{') depth++
      if (depth > 0) buf += ch
      if (ch === '}' && --depth === 0) {
        const pod = JSON.parse(buf)
        buf = ''
        if (pod.metadata?.labels?.release !== 'v2') continue
        for (const cs of pod.status?.containerStatuses ?? []) {
          const terminated = cs.state?.terminated ?? cs.lastState?.terminated
          if (!terminated?.finishedAt) continue
          const at = Date.parse(terminated.finishedAt)
          if (seen.finishedAt === undefined || at < seen.finishedAt) seen.finishedAt = at
          // The container wrote the host's uptime (centiseconds) as it exited: its exit on this clock.
          const uptime = Number(terminated.message)
          if (Number.isFinite(uptime) && uptime > 0) {
            const exitedAt = bootTime + uptime * 1000
            if (seen.exitedAt === undefined || exitedAt < seen.exitedAt) seen.exitedAt = exitedAt
          }
          seen.seenAt ??= now
        }
      }
    }
  })
  return { seen, stop: () => watch.kill('SIGTERM') }
}

async function runAction(ns, manifest) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-verdict-'))
  writeFileSync(join(dir, 'release.yaml'), manifest)
  const { env, outputFile } = actionEnv({ manifests: join(dir, 'release.yaml'), namespace: ns })
  const r = await timed(process.execPath, [bundle], { env })
  return { ...r, outputs: outputsOf(outputFile) }
}

/** One release of the crashing v2 by the action: termination-to-verdict and crash-to-healthy. */
async function actionTrial(chart) {
  const ns = freshNamespace('action')
  const first = await runAction(ns, render(chart, ns, []))
  if (first.outputs.result !== 'success') throw new Error(`v1 did not roll out: ${first.stdout.slice(-2000)}`)
  const watch = watchTerminations(ns)
  const r = await runAction(ns, render(chart, ns, ['crash=true', 'release=v2']))
  watch.stop()
  const verdictLine = r.lines.find(l => /^deployment\/web: failed: /.test(l.line))
  const verdictAt = verdictLine ? performance.timeOrigin + verdictLine.t : NaN
  const ok = r.outputs.result === 'rolled-back' && healthy(ns, REPLICAS)
  kubectl('delete', 'namespace', ns, '--wait=false')
  return {
    ok,
    crashToHealthyMs: +r.ms.toFixed(0),
    terminationToVerdictMs: +(verdictAt - watch.seen.finishedAt).toFixed(0),
    exitToVerdictMs: +(verdictAt - watch.seen.exitedAt).toFixed(0),
    exitToStatusSeenMs: +(watch.seen.seenAt - watch.seen.exitedAt).toFixed(0),
    statusSeenToVerdictMs: +(verdictAt - watch.seen.seenAt).toFixed(0),
    failureReason: r.outputs['failure-reason']
  }
}

/** The same two releases with Helm 4: install v1 (--wait), then upgrade to v2 with --rollback-on-failure. */
async function helmTrial(chart) {
  const ns = freshNamespace('helm')
  execFileSync(
    helm,
    ['upgrade', '--install', 'web', chart, '-n', ns, '--wait', '--kubeconfig', tb.KUBECONFIG],
    {
      stdio: 'ignore'
    }
  )
  const r = await timed(helm, [
    'upgrade', '--install', 'web', chart, '-n', ns, '--kubeconfig', tb.KUBECONFIG,
    '--set', 'crash=true', '--set', 'release=v2', '--rollback-on-failure'
  ]) // prettier-ignore
  const ok = r.code !== 0 && healthy(ns, REPLICAS)
  kubectl('delete', 'namespace', ns, '--wait=false')
  return {
    ok,
    crashToHealthyMs: +r.ms.toFixed(0),
    output: (r.stderr + r.stdout).trim().split('\n').slice(-3)
  }
}

const chart = writeChart(mkdtempSync(join(tmpdir(), 'bench-chart-')))
const actionTrials = []
for (let i = 0; i < TRIALS; i++) {
  const t = await actionTrial(chart)
  console.log(
    `action trial ${i + 1}/${TRIALS}: termination (kubelet finishedAt) -> verdict ${t.terminationToVerdictMs} ms, exit -> verdict ${t.exitToVerdictMs} ms (exit -> status seen ${t.exitToStatusSeenMs} ms, status seen -> verdict ${t.statusSeenToVerdictMs} ms), crash -> healthy ${(t.crashToHealthyMs / 1000).toFixed(1)} s, ok=${t.ok}`
  )
  actionTrials.push(t)
}
const helmTrials = []
for (let i = 0; i < HELM_TRIALS; i++) {
  console.log(
    `helm ${HELM_VERSION} trial ${i + 1}/${HELM_TRIALS}: upgrade --rollback-on-failure (default timeout 5m) ...`
  )
  const t = await helmTrial(chart)
  console.log(`  helm: crash -> healthy ${(t.crashToHealthyMs / 1000).toFixed(1)} s, ok=${t.ok}`)
  helmTrials.push(t)
}
const actionMs = median(actionTrials.map(t => t.crashToHealthyMs))
const helmMs = median(helmTrials.map(t => t.crashToHealthyMs))
const result = {
  benchmark: 'rollout verdicts on the real node: termination to verdict, and crash to healthy against Helm 4',
  node: `${tb.TESTBED_REAL_NODE} (kubelet, containerd, a container that exits 1)`,
  date: new Date().toISOString(),
  testbed: tb.TESTBED_K8S_VERSION,
  replicas: REPLICAS,
  terminationToVerdict: {
    note: "from the kubelet's finishedAt (whole seconds, rounded down: an upper bound) to the action's verdict line",
    ms: actionTrials.map(t => t.terminationToVerdictMs),
    medianMs: median(actionTrials.map(t => t.terminationToVerdictMs)),
    statusSeenToVerdictMs: actionTrials.map(t => t.statusSeenToVerdictMs),
    exitToVerdict: {
      note: "from the container's own exit (the host's /proc/uptime it wrote to its termination message, 10 ms resolution) to the verdict line; exitToStatusSeen is the kubelet's part (its relist and status update), statusSeenToVerdict the action's",
      ms: actionTrials.map(t => t.exitToVerdictMs),
      medianMs: median(actionTrials.map(t => t.exitToVerdictMs)),
      exitToStatusSeenMs: actionTrials.map(t => t.exitToStatusSeenMs)
    },
    goalMs: 1000
  },
  crashToHealthy: {
    baseline: {
      name: `helm ${HELM_VERSION} upgrade --install --rollback-on-failure (default timeout 5m)`,
      medianSeconds: +(helmMs / 1000).toFixed(2),
      trials: helmTrials.map(t => t.crashToHealthyMs)
    },
    action: {
      name: 'rollout action on the chart as helm template renders it (defaults)',
      medianSeconds: +(actionMs / 1000).toFixed(2),
      trials: actionTrials.map(t => t.crashToHealthyMs)
    },
    ratio: +(actionMs / helmMs).toFixed(4)
  },
  allOk: actionTrials.every(t => t.ok) && helmTrials.every(t => t.ok),
  raw: { action: actionTrials, helm: helmTrials }
}
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/rollout-verdicts.json'), JSON.stringify(result, null, 2) + '\n')
console.log(
  `\ntermination -> verdict: median ${result.terminationToVerdict.medianMs} ms by the kubelet's whole-second finishedAt, ${result.terminationToVerdict.exitToVerdict.medianMs} ms from the exit itself (goal < 1000); crash -> healthy: action ${result.crashToHealthy.action.medianSeconds} s vs helm ${result.crashToHealthy.baseline.medianSeconds} s, ratio ${result.crashToHealthy.ratio}`
)
console.log('wrote bench/results/rollout-verdicts.json')
if (!result.allOk) {
  console.error('some run did not end as expected (see raw in the JSON)')
  process.exit(1)
}
