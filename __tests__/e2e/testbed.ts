/**
 * The local test bed as the end-to-end tests see it: the variables `.testbed/env` exports
 * (written by `make testbed-up`). A test never skips silently when the test bed is down: it fails
 * and says how to bring it up.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../harness/runner.js'

export type TestbedEnv = Record<string, string>

export function testbedEnv(): TestbedEnv {
  const file = process.env.TESTBED_ENV ?? join(REPO_ROOT, '.testbed', 'env')
  if (!existsSync(file)) throw new Error(`${file} is missing: run 'make testbed-up' first`)
  const env: TestbedEnv = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (!m) continue
    let value = m[2]!.trim()
    if ((value.startsWith("'") && value.endsWith("'")) || (value.startsWith('"') && value.endsWith('"'))) {
      value = value.slice(1, -1)
    }
    env[m[1]!] = value
  }
  return env
}

/** The named variables, or an error naming the missing ones. */
export function requireTestbed(...names: string[]): TestbedEnv {
  const env = testbedEnv()
  const missing = names.filter(n => !env[n])
  if (missing.length)
    throw new Error(`.testbed/env lacks ${missing.join(', ')}: is that part of the test bed up?`)
  return env
}

/** kubectl as the test bed's admin, with a request timeout so that no call can hang a test. */
export function kubectl(...args: string[]): string {
  const tb = requireTestbed('KUBECTL', 'KUBECONFIG')
  return execFileSync(tb.KUBECTL!, ['--kubeconfig', tb.KUBECONFIG!, '--request-timeout=30s', ...args], {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe']
  })
}

/**
 * Deployment `web`: 2 replicas of `registry.testbed.invalid/otlp-deploy/web:<tag>` whose pods kwok
 * plays as `testbed/behavior` says (ready, crashloop, ...).
 */
export function webDeployment(tag: string, behavior: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, testbed/behavior: ${behavior}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: registry.testbed.invalid/otlp-deploy/web:${tag}
`
}

/**
 * Namespaces of one test file, `<prefix>-<name>-<pid>-<n>`, each deleted (without waiting) after the
 * file's tests. Call it at the top level of the test file: it registers the afterAll.
 */
export function testNamespaces(prefix: string): (name: string) => string {
  let counter = 0
  const created: string[] = []
  afterAll(() => {
    for (const ns of created) {
      try {
        kubectl('delete', 'namespace', ns, '--wait=false')
      } catch {
        // best effort
      }
    }
  })
  return name => {
    const ns = `${prefix}-${name}-${process.pid % 10000}-${++counter}`
    kubectl('create', 'namespace', ns)
    created.push(ns)
    return ns
  }
}

/** A Kubernetes object rendered from YAML, typed only as far as the helpers below touch it. */
export interface RenderedObject {
  kind?: string
  metadata?: { name?: string; namespace?: string }
  subjects?: { namespace?: string }[]
  spec?: {
    type?: string
    replicas?: number
    ports?: { name?: string; nodePort?: number }[]
    template?: {
      metadata?: { labels?: Record<string, string> }
      spec?: {
        nodeSelector?: Record<string, string>
        tolerations?: object[]
        imagePullSecrets?: { name: string }[]
        containers?: { args?: string[]; env?: { name: string; value: string }[] }[]
      }
    }
  }
}

/**
 * Pins one object of an otlp-client release to the test bed's real node: its Service answers on
 * `nodePort` (port `http`); its Deployment selects and tolerates the node, pulls with `pullSecret`,
 * and points the relay's upstream at the pod's own loopback (the test bed has no tracing backend,
 * and nothing may leave the machine). Other kinds are left as they are.
 */
export function pinToRealNode(
  tb: TestbedEnv,
  obj: RenderedObject,
  options: { nodePort: number; pullSecret: string }
): void {
  if (obj.kind === 'Service' && obj.spec) {
    obj.spec.type = 'NodePort'
    for (const p of obj.spec.ports ?? []) if (p.name === 'http') p.nodePort = options.nodePort
  }
  const pod = obj.kind === 'Deployment' ? obj.spec?.template?.spec : undefined
  if (!pod) return
  const [key, value] = (tb.TESTBED_REAL_NODE_SELECTOR ?? '=').split('=')
  pod.nodeSelector = { ...pod.nodeSelector, [key!]: value! }
  pod.tolerations = [{ key: 'testbed/real-node', operator: 'Exists', effect: 'NoSchedule' }]
  pod.imagePullSecrets = [{ name: options.pullSecret }]
  pod.containers?.[0]?.env?.push({ name: 'OTLP_CLIENT_OTLP_ENDPOINT', value: 'http://127.0.0.1:9' })
}

/**
 * A docker-registry Secret `name` for the test bed registry in `namespace`, replacing one there;
 * `server` when the registry is reached under another address (a proxy in front of it).
 */
export function createPullSecret(
  namespace: string,
  name: string,
  password = requireTestbed('REGISTRY_PASSWORD').REGISTRY_PASSWORD!,
  server = requireTestbed('REGISTRY').REGISTRY!
): void {
  const tb = requireTestbed('REGISTRY_USERNAME')
  kubectl('delete', 'secret', name, '-n', namespace, '--ignore-not-found')
  kubectl(
    'create', 'secret', 'docker-registry', name, '-n', namespace, `--docker-server=${server}`,
    `--docker-username=${tb.REGISTRY_USERNAME}`, `--docker-password=${password}`
  ) // prettier-ignore
}
