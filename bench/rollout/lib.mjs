// What the rollout benchmarks share: the test bed's environment, kubectl, a timed child process
// (with the time of each output line and kubectl's request count), and one run of the bundle as
// the runner runs it, with every input at its action.yml default unless given.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'

export const root = resolve(new URL('../..', import.meta.url).pathname)
const envFile = process.env.TESTBED_ENV ?? join(root, '.testbed/env')
if (!existsSync(envFile)) {
  console.error(`${envFile} is missing: run testbed/testbed.sh up first`)
  process.exit(2)
}
export const tb = Object.fromEntries(
  readFileSync(envFile, 'utf8')
    .split('\n')
    .map(l => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(l))
    .filter(Boolean)
    .map(m => [m[1], m[2].trim().replace(/^(['"])(.*)\1$/, '$2')])
)
export const bundle = join(root, 'dist/rollout/index.js')
if (!existsSync(bundle)) {
  console.error(`${bundle} is missing: run node scripts/build.mjs rollout`)
  process.exit(2)
}

export const kubectl = (...args) =>
  execFileSync(tb.KUBECTL, ['--kubeconfig', tb.KUBECONFIG, ...args], { encoding: 'utf8' })

export function argValue(name, fallback) {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : fallback
}

/** Runs a command, returns {code, stdout, stderr, ms, started, requests (kubectl -v=6 responses), lines (each with its time)}. */
export function timed(cmd, args, options = {}) {
  return new Promise(resolvePromise => {
    const started = performance.now()
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
    let stdout = ''
    let stderr = ''
    const lines = []
    child.stdout.on('data', d => {
      stdout += d
      for (const line of String(d).split('\n')) if (line) lines.push({ t: performance.now(), line })
    })
    child.stderr.on('data', d => (stderr += d))
    child.on('close', code => {
      // kubectl -v=6 logs one line per response: round_trippers.go:632] "Response" verb="GET" url=...
      const requests = (stderr.match(/round_trippers\.go:\d+\] "Response" verb="[A-Z]+"/g) ?? []).length
      resolvePromise({ code, stdout, stderr, ms: performance.now() - started, started, requests, lines })
    })
  })
}

const defaults = Object.fromEntries(
  Object.entries(parse(readFileSync(join(root, 'actions/rollout/action.yml'), 'utf8')).inputs).map(
    ([k, v]) => [k, String(v.default ?? '')]
  )
)

/** The environment of one run of the bundle: the inputs (defaults from action.yml), outputs and summary files. */
export function actionEnv(inputs) {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KUBECONFIG: tb.KUBECONFIG,
    GITHUB_WORKSPACE: root
  }
  const tmp = mkdtempSync(join(tmpdir(), 'bench-rollout-'))
  for (const f of ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY']) {
    env[f] = join(tmp, f)
    writeFileSync(env[f], '')
  }
  for (const [k, v] of Object.entries({ ...defaults, ...inputs })) env[`INPUT_${k.toUpperCase()}`] = v
  return { env, outputFile: env.GITHUB_OUTPUT, summaryFile: env.GITHUB_STEP_SUMMARY }
}

export function outputsOf(file) {
  const out = {}
  const lines = readFileSync(file, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (m) {
      const v = []
      while (lines[++i] !== m[2]) v.push(lines[i])
      out[m[1]] = v.join('\n')
    } else if (lines[i].includes('='))
      out[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1)
  }
  return out
}

export const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Deployment `web` in `ns` back on release v1: every one of its `replicas` updated and available. */
export function healthy(ns, replicas) {
  const d = JSON.parse(kubectl('get', '-n', ns, 'deployment/web', '-o', 'json'))
  return (
    d.spec.template.metadata.labels.release === 'v1' &&
    d.status.updatedReplicas === replicas &&
    d.status.availableReplicas === replicas &&
    d.status.replicas === replicas
  )
}
