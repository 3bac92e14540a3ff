/**
 * Kubeconfig loading: content, the KUBECONFIG files (merged as kubectl does: the first file to
 * set a name or current-context wins) or the in-cluster service account, resolved into what an
 * HTTPS request needs. Exec credential plugins are run once. Every credential is masked before use.
 * (A loader of our own: @kubernetes/client-node's bundles to 20 MB and does not start on Node 20.)
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { ActionError, maskSecret as registerMask } from '../runtime/index.js'

const masked = new Set<string>()
/** Masks each credential once: a kubeconfig is read in more than one pass. */
function maskSecret(value: string): void {
  if (masked.has(value)) return
  masked.add(value)
  registerMask(value)
}

interface NamedCluster {
  name: string
  cluster: Record<string, unknown>
}
interface NamedUser {
  name: string
  user: Record<string, unknown>
}
interface NamedContext {
  name: string
  context: { cluster?: string; user?: string; namespace?: string }
}

interface RawConfig {
  clusters: NamedCluster[]
  users: NamedUser[]
  contexts: NamedContext[]
  currentContext: string
  /** Directory of the file each entry came from, to resolve relative paths. */
  base: Map<object, string>
}

/** What a request to the API server needs. */
export interface ResolvedCredentials {
  server: URL
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
  token?: string
  basic?: string
  insecure: boolean
  servername?: string
  namespace: string
  user: string
  origin: string
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

export interface LoadOptions {
  kubeconfig?: string
  context?: string
  env?: NodeJS.ProcessEnv
}

export function loadCredentials(options: LoadOptions = {}): ResolvedCredentials {
  const env = options.env ?? process.env
  if (options.kubeconfig && options.kubeconfig.trim() !== '') {
    maskKubeconfigCredentials(options.kubeconfig)
    const raw = emptyConfig()
    mergeConfig(raw, parseConfigText(options.kubeconfig, 'the kubeconfig input'), process.cwd())
    return resolve(raw, options.context, 'the kubeconfig input')
  }
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(':').filter(Boolean)
    const raw = emptyConfig()
    let found = 0
    for (const f of files) {
      if (!existsSync(f)) continue
      found++
      const text = readFileSync(f, 'utf8')
      maskKubeconfigCredentials(text)
      mergeConfig(raw, parseConfigText(text, f), dirname(f))
    }
    if (found === 0) throw new ActionError(`KUBECONFIG names ${files.join(', ')}, and none of them exists`)
    return resolve(raw, options.context, `KUBECONFIG (${files.join(':')})`)
  }
  if (existsSync(join(SA_DIR, 'token')) && env.KUBERNETES_SERVICE_HOST) {
    const token = readFileSync(join(SA_DIR, 'token'), 'utf8').trim()
    maskSecret(token)
    const host = env.KUBERNETES_SERVICE_HOST.includes(':')
      ? `[${env.KUBERNETES_SERVICE_HOST}]`
      : env.KUBERNETES_SERVICE_HOST
    return {
      server: new URL(`https://${host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`),
      ca: readFileSync(join(SA_DIR, 'ca.crt')),
      token,
      insecure: false,
      namespace: existsSync(join(SA_DIR, 'namespace'))
        ? readFileSync(join(SA_DIR, 'namespace'), 'utf8').trim()
        : 'default',
      user: 'in-cluster service account',
      origin: 'the in-cluster service account'
    }
  }
  throw new ActionError(
    'No Kubernetes credentials: the kubeconfig input is empty, KUBECONFIG is not set and this is not a pod',
    {
      hint: 'Pass the kubeconfig input (from a secret), or set KUBECONFIG in the job environment.'
    }
  )
}

function emptyConfig(): RawConfig {
  return { clusters: [], users: [], contexts: [], currentContext: '', base: new Map() }
}

function parseConfigText(text: string, origin: string): Record<string, unknown> {
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (err) {
    // The message of the YAML parser may quote the content: keep only its position.
    const pos = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line
    throw new ActionError(`${origin} is not valid YAML${pos ? ` (line ${pos})` : ''}`, {
      hint: 'Check that the whole kubeconfig was stored in the secret.'
    })
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new ActionError(`${origin} is not a kubeconfig (expected kind: Config)`)
  return doc as Record<string, unknown>
}

function mergeConfig(into: RawConfig, doc: Record<string, unknown>, base: string): void {
  const add = <T extends { name: string }>(list: T[], items: unknown) => {
    for (const item of Array.isArray(items) ? (items as T[]) : []) {
      if (!item?.name || list.some(x => x.name === item.name)) continue
      list.push(item)
      into.base.set(item, base)
    }
  }
  add(into.clusters, doc.clusters)
  add(into.users, doc.users)
  add(into.contexts, doc.contexts)
  if (!into.currentContext && typeof doc['current-context'] === 'string')
    into.currentContext = doc['current-context']
}

function resolve(raw: RawConfig, contextName: string | undefined, origin: string): ResolvedCredentials {
  const name = contextName || raw.currentContext
  if (!name)
    throw new ActionError(`${origin} sets no current-context`, {
      hint: 'Set current-context in the kubeconfig or give the context input.'
    })
  const ctx = raw.contexts.find(c => c.name === name)
  if (!ctx) {
    throw new ActionError(`context ${JSON.stringify(name)} is not in ${origin}`, {
      hint: `Contexts there: ${raw.contexts.map(c => c.name).join(', ') || 'none'}`
    })
  }
  const cluster = raw.clusters.find(c => c.name === ctx.context?.cluster)
  if (!cluster)
    throw new ActionError(
      `context ${name} of ${origin} names cluster ${JSON.stringify(ctx.context?.cluster)}, which is not defined`
    )
  const user = raw.users.find(u => u.name === ctx.context?.user)
  const c = cluster.cluster ?? {}
  const u = user?.user ?? {}
  const cbase = raw.base.get(cluster) ?? process.cwd()
  const ubase = (user && raw.base.get(user)) ?? process.cwd()
  if (typeof c.server !== 'string' || c.server === '')
    throw new ActionError(`cluster ${cluster.name} of ${origin} has no server URL`)
  if (c['proxy-url'])
    throw new ActionError(
      `cluster ${cluster.name} of ${origin} uses proxy-url, which this action does not support`
    )
  let server: URL
  try {
    server = new URL(c.server)
  } catch {
    throw new ActionError(
      `cluster ${cluster.name} of ${origin}: server ${JSON.stringify(c.server)} is not a URL`
    )
  }
  const creds: ResolvedCredentials = {
    server,
    ca: dataOrFile(c['certificate-authority-data'], c['certificate-authority'], cbase),
    cert: dataOrFile(u['client-certificate-data'], u['client-certificate'], ubase),
    key: dataOrFile(u['client-key-data'], u['client-key'], ubase),
    insecure: c['insecure-skip-tls-verify'] === true,
    servername: typeof c['tls-server-name'] === 'string' ? c['tls-server-name'] : undefined,
    namespace: ctx.context?.namespace || 'default',
    user: user?.name ?? '(no user)',
    origin
  }
  if (creds.key) maskSecret(creds.key.toString('utf8'))
  if (typeof u.token === 'string' && u.token) creds.token = u.token
  else if (typeof u.tokenFile === 'string' && u.tokenFile)
    creds.token = readFileSync(absolute(u.tokenFile, ubase), 'utf8').trim()
  else if (typeof u.username === 'string' && typeof u.password === 'string')
    creds.basic = Buffer.from(`${u.username}:${u.password}`).toString('base64')
  else if (u.exec && typeof u.exec === 'object')
    Object.assign(creds, runExecPlugin(u.exec as Record<string, unknown>, user!.name, server))
  if (creds.token) maskSecret(creds.token)
  if (creds.basic) maskSecret(creds.basic)
  return creds
}

function absolute(path: string, base: string): string {
  return isAbsolute(path) ? path : join(base, path)
}

function dataOrFile(data: unknown, file: unknown, base: string): Buffer | undefined {
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64')
  if (typeof file === 'string' && file !== '') return readFileSync(absolute(file, base))
  return undefined
}

/** A client.authentication.k8s.io exec plugin (aws, gke-gcloud-auth-plugin, kubelogin...). */
function runExecPlugin(
  exec: Record<string, unknown>,
  user: string,
  server: URL
): Partial<ResolvedCredentials> {
  const command = String(exec.command ?? '')
  const args = Array.isArray(exec.args) ? exec.args.map(String) : []
  const extraEnv: Record<string, string> = {}
  for (const e of Array.isArray(exec.env) ? (exec.env as { name: string; value: string }[]) : [])
    extraEnv[e.name] = e.value
  const apiVersion = String(exec.apiVersion ?? 'client.authentication.k8s.io/v1')
  const execInfo = JSON.stringify({
    apiVersion,
    kind: 'ExecCredential',
    spec: { interactive: false, cluster: { server: server.href } }
  })
  let out: string
  try {
    out = execFileSync(command, args, {
      env: { ...process.env, ...extraEnv, KUBERNETES_EXEC_INFO: execInfo },
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe']
    })
  } catch (err) {
    throw new ActionError(
      `the exec credential plugin of user ${user} (${command}) failed: ${(err as Error).message.split('\n')[0]}`,
      {
        hint: 'Install the plugin on the runner, or pass a kubeconfig with a token or client certificate.'
      }
    )
  }
  let status: { token?: string; clientCertificateData?: string; clientKeyData?: string } = {}
  try {
    status = (JSON.parse(out) as { status?: typeof status }).status ?? {}
  } catch {
    throw new ActionError(
      `the exec credential plugin of user ${user} (${command}) did not print an ExecCredential`
    )
  }
  if (status.token) maskSecret(status.token)
  if (status.clientKeyData) maskSecret(status.clientKeyData)
  return {
    token: status.token,
    cert: status.clientCertificateData ? Buffer.from(status.clientCertificateData) : undefined,
    key: status.clientKeyData ? Buffer.from(status.clientKeyData) : undefined
  }
}

/** Registers every credential in a kubeconfig with the runner's masker, one by one. */
export function maskKubeconfigCredentials(text: string): void {
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch {
    return
  }
  const users = (doc as { users?: { user?: Record<string, unknown> }[] } | null)?.users ?? []
  for (const u of Array.isArray(users) ? users : []) {
    const user = u?.user ?? {}
    for (const key of ['token', 'client-key-data', 'password']) {
      const v = user[key]
      if (typeof v !== 'string' || v.length < 8) continue
      maskSecret(v)
      if (key.endsWith('-data')) {
        const decoded = Buffer.from(v, 'base64').toString('utf8')
        maskSecret(decoded)
      }
    }
    const authProvider = user['auth-provider'] as { config?: Record<string, unknown> } | undefined
    for (const v of Object.values(authProvider?.config ?? {}))
      if (typeof v === 'string' && v.length >= 8) maskSecret(v)
  }
}
