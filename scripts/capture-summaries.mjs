#!/usr/bin/env node
// Captures the rollout's job summary from real runs on the test bed's real node (kubelet,
// containerd) into docs/summaries/: a good release, a crash loop rolled back, a failed migration
// Job rolled back, and a smoke test failure rolled back. The smoke URL is a loopback server of
// this script. Then render them: node scripts/render-summary.mjs docs/summaries/*.md
//
// Usage: testbed/testbed.sh up && node scripts/build.mjs rollout && node scripts/capture-summaries.mjs
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { actionEnv, bundle, kubectl, outputsOf, root, tb, timed } from '../bench/rollout/lib.mjs'

if (!tb.TESTBED_REAL_NODE) {
  console.error('.testbed/env names no real node: the summaries are captured on it')
  process.exit(2)
}
const [nodeKey, nodeValue] = tb.TESTBED_REAL_NODE_SELECTOR.split('=')
const out = join(root, 'docs/summaries')
mkdirSync(out, { recursive: true })

// The smoke URL: healthy, except while `failing` is set.
let failing = false
const server = createServer((_, res) => {
  if (failing)
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"degraded","db":"timeout"}')
  else res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
})
await new Promise(r => server.listen(0, '127.0.0.1', r))
const smokeUrl = `http://127.0.0.1:${server.address().port}/health`

const pod = command => `      terminationGracePeriodSeconds: 1
      nodeSelector: {${nodeKey}: "${nodeValue}"}
      tolerations: [{key: testbed/real-node, operator: Exists, effect: NoSchedule}]
      imagePullSecrets: [{name: registry}]
      containers:
      - name: api
        image: ${tb.TESTBED_BASE_IMAGE}
        command: [/bin/sh, -c, '${command}']
        envFrom: [{configMapRef: {name: api-config}}]`
const release = (version, command, logLevel = 'info') => `apiVersion: v1
kind: ConfigMap
metadata: {name: api-config}
data: {LOG_LEVEL: ${logLevel}, RELEASE: ${version}}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api, release: ${version}}}
    spec:
${pod(command)}
`
const migration = `apiVersion: batch/v1
kind: Job
metadata: {name: migrate-v3}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
${pod('echo "applying migration 0042_add_orders_index"; echo "error: DATABASE_URL is not set" >&2; exit 3').replace('      - name: api', '      - name: migrate')}
`

async function run(ns, name, manifests, inputs = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'summaries-'))
  writeFileSync(join(dir, 'release.yaml'), manifests)
  const { env, outputFile, summaryFile } = actionEnv({
    manifests: join(dir, 'release.yaml'),
    namespace: ns,
    'smoke-url': smokeUrl,
    'smoke-expect': 'json:status=ok',
    'smoke-retries': '3',
    ...inputs
  })
  await timed(process.execPath, [bundle], { env })
  const outputs = outputsOf(outputFile)
  if (name) {
    // The namespace names are the run's own; the summary is kept as written.
    writeFileSync(join(out, `${name}.md`), readFileSync(summaryFile, 'utf8'))
    console.log(
      `${name}: ${outputs.result} (${outputs['failure-reason'] || 'ok'}) -> docs/summaries/${name}.md`
    )
  }
  return outputs
}

const ns = `summaries-${Date.now().toString(36)}`
kubectl('create', 'namespace', ns)
kubectl('create', 'secret', 'docker-registry', 'registry', '-n', ns, `--docker-server=${tb.REGISTRY}`,
  `--docker-username=${tb.REGISTRY_USERNAME}`, `--docker-password=${tb.REGISTRY_PASSWORD}`) // prettier-ignore
try {
  await run(ns, '', release('v1', 'echo "api v1 listening on :8080"; exec sleep 3600'))
  await run(ns, 'good-release', release('v2', 'echo "api v2 listening on :8080"; exec sleep 3600', 'debug'))
  await run(
    ns,
    'crash-loop-rolled-back',
    release(
      'v3',
      'echo "api v3 starting"; echo "panic: open /etc/api/tls.key: no such file or directory" >&2; exit 2'
    )
  )
  await run(
    ns,
    'failed-migration-rolled-back',
    `${migration}---\n${release('v3', 'echo "api v3 listening on :8080"; exec sleep 3600')}`
  )
  failing = true
  // The restored revision answers again once the rollback starts: the check after it passes.
  let applied = false
  const flip = setInterval(() => {
    const release = JSON.parse(kubectl('get', 'deployment', 'api', '-n', ns, '-o', 'json')).spec.template
      .metadata.labels.release
    if (release === 'v4') applied = true
    else if (applied) failing = false
  }, 200)
  await run(
    ns,
    'smoke-failure-rolled-back',
    release('v4', 'echo "api v4 listening on :8080"; exec sleep 3600')
  )
  clearInterval(flip)
} finally {
  server.close()
  kubectl('delete', 'namespace', ns, '--wait=false')
}
