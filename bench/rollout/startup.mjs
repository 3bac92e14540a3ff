#!/usr/bin/env node
// Start-up cost of the rollout bundle on Node 24, against the bundle before @kubernetes/client-node
// (the baseline commit's dist/rollout, read from git), in the same run, median of 9 each:
//   input error:   from spawning the bundle to its exit on a bad input (the library is not loaded)
//   first request: from spawning to the first request reaching a loopback server standing in for
//                  the API server (the library loaded, the kubeconfig read, credentials applied)
// Usage: node bench/rollout/startup.mjs [--runs 9]   Writes bench/results/rollout-startup.json.
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import * as http from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(new URL('../..', import.meta.url).pathname)
const BASELINE_REF = process.env.BENCH_STARTUP_BASELINE ?? 'cdfdecb' // the last commit with the hand-written client
const runsArg = process.argv.indexOf('--runs')
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 9
const node = process.execPath
if (!process.versions.node.startsWith('24.')) {
  console.error(`run on Node 24 (the actions' runtime), not ${process.versions.node}: use make bench`)
  process.exit(2)
}

/** The baseline bundle, written out of git into a folder of its own (its chunks too). */
function baselineBundle() {
  const dir = mkdtempSync(join(tmpdir(), 'rollout-baseline-'))
  const files = execFileSync('git', ['ls-tree', '--name-only', `${BASELINE_REF}:dist/rollout`], {
    cwd: root,
    encoding: 'utf8'
  })
    .split('\n')
    .filter(Boolean)
  for (const f of files)
    writeFileSync(
      join(dir, f),
      execFileSync('git', ['show', `${BASELINE_REF}:dist/rollout/${f}`], { cwd: root, maxBuffer: 256 << 20 })
    )
  return join(dir, 'index.js')
}

function inputs(extra) {
  const env = { PATH: process.env.PATH, HOME: mkdtempSync(join(tmpdir(), 'home-')) }
  const tmp = mkdtempSync(join(tmpdir(), 'startup-'))
  for (const f of ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY']) {
    env[f] = join(tmp, f)
    writeFileSync(env[f], '')
  }
  for (const [k, v] of Object.entries({ rollback: 'true', timeout: '10m', ...extra }))
    env[`INPUT_${k.toUpperCase()}`] = v
  return env
}

function untilExit(bundle, env) {
  return new Promise(res => {
    const t = performance.now()
    const child = spawn(node, [bundle], { env, stdio: 'ignore' })
    child.on('close', code => res({ ms: performance.now() - t, code }))
  })
}

/** A stand-in for the API server that answers 403 to everything, stamping the first request. */
async function forbiddingServer() {
  let onRequest = () => {}
  const server = http.createServer((_req, res) => {
    onRequest()
    res.writeHead(403, { 'Content-Type': 'application/json' })
    res.end('{"kind":"Status","message":"forbidden","reason":"Forbidden","code":403}')
  })
  await new Promise(r => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    next: () => new Promise(r => (onRequest = () => r(performance.now()))),
    close: () => server.close()
  }
}

async function untilFirstRequest(bundle, server, kubeconfig) {
  const arrived = server.next()
  const t = performance.now()
  const child = spawn(node, [bundle], {
    env: inputs({ kubeconfig, workload: 'deployment/web', images: 'web=registry.example/web:1' }),
    stdio: 'ignore'
  })
  const at = await arrived
  await new Promise(r => child.on('close', r))
  return at - t
}

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const bundles = { current: join(root, 'dist/rollout/index.js'), baseline: baselineBundle() }
const server = await forbiddingServer()
const kubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server.url}"}}]
users: [{name: u, user: {token: bench-token-value}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
current-context: x
`
// Interleaved, so that the machine's load at any moment weighs on both bundles alike.
const samples = Object.fromEntries(Object.keys(bundles).map(n => [n, { inputError: [], firstRequest: [] }]))
for (let i = 0; i < RUNS; i++) {
  for (const [name, bundle] of Object.entries(bundles)) {
    const r = await untilExit(bundle, inputs({ timeout: 'soon', manifests: 'x.yaml' }))
    if (r.code === 0) throw new Error(`${name}: a bad input did not fail the bundle`)
    samples[name].inputError.push(r.ms)
    samples[name].firstRequest.push(await untilFirstRequest(bundle, server, kubeconfig))
  }
}
server.close()
const result = {}
for (const [name, s] of Object.entries(samples)) {
  result[name] = {
    inputErrorMs: +median(s.inputError).toFixed(0),
    firstRequestMs: +median(s.firstRequest).toFixed(0),
    raw: {
      inputError: s.inputError.map(x => +x.toFixed(0)),
      firstRequest: s.firstRequest.map(x => +x.toFixed(0))
    }
  }
  console.log(
    `${name}: input error ${result[name].inputErrorMs} ms, first request ${result[name].firstRequestMs} ms`
  )
}
const out = {
  benchmark:
    'rollout bundle start-up on Node 24: spawn to the first input error, and to the first API request',
  date: new Date().toISOString(),
  node: process.versions.node,
  runs: RUNS,
  baseline: { name: `hand-written client (dist/rollout at ${BASELINE_REF})`, ...result.baseline },
  action: { name: '@kubernetes/client-node, loaded when connecting', ...result.current },
  inputErrorRatio: +(result.current.inputErrorMs / result.baseline.inputErrorMs).toFixed(2),
  firstRequestRatio: +(result.current.firstRequestMs / result.baseline.firstRequestMs).toFixed(2),
  libraryCostMs: result.current.firstRequestMs - result.baseline.firstRequestMs,
  goalInputErrorMs: 400,
  allOk: result.current.inputErrorMs < 400
}
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/rollout-startup.json'), JSON.stringify(out, null, 2) + '\n')
console.log(JSON.stringify({ ...out, baseline: undefined, action: undefined }, null, 2))
