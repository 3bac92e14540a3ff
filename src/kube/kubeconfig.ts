/**
 * Where the Kubernetes configuration comes from, decided before anything connects: the kubeconfig
 * input, else the KUBECONFIG list (merged as kubectl merges: the first file to set a name or
 * current-context wins), else ~/.kube/config, else the in-cluster service account. The chosen
 * context is checked here, with messages that name the file and the entry, and every credential in
 * it is masked (the credentials, not the file's lines). @kubernetes/client-node then does the rest
 * (access.ts): TLS, client certificates, OIDC refresh, proxies.
 */
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, dirname, isAbsolute, join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { ActionError, maskPem, maskValue } from '../runtime/index.js'

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

export interface LoadOptions {
  /** Kubeconfig content (the action's input); relative paths in it are taken from `cwd`. */
  kubeconfig?: string
  context?: string
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** The in-cluster service account folder (a test points it at a mount of its own). */
  serviceAccountDir?: string
  /** Authenticate with the job's GitHub Actions OIDC token for this audience, not the kubeconfig's user. */
  oidcAudience?: string
}

/** A kubeconfig entry as written: `{name, cluster|user|context: {...}}`. */
type Entry = { name: string } & Record<string, unknown>
type Fields = Record<string, unknown>

export interface ExecConfig {
  apiVersion: string
  command: string
  args: string[]
  env: { name: string; value: string }[]
  installHint?: string
  provideClusterInfo: boolean
  interactiveMode: string
}

export interface Impersonation {
  user: string
  uid?: string
  groups: string[]
  extra: Record<string, string[]>
}

/** How the chosen user authenticates, in the order client-go applies them. */
export type Authentication =
  | { kind: 'static' } // token, basic or client certificate: the library applies them as given
  | { kind: 'token-file'; path: string }
  | { kind: 'exec'; exec: ExecConfig }
  | { kind: 'oidc' }
  | { kind: 'none' }

/** The one context the action uses, checked, paths absolute, ready for the client library. */
export interface SelectedConfig {
  origin: string
  contextName: string
  namespace: string
  userName: string
  cluster: Fields & { server: string }
  clusterName: string
  user: Fields
  authentication: Authentication
  impersonation?: Impersonation
  /** The cluster entry's exec extension (client.authentication.k8s.io/exec), for provideClusterInfo. */
  execExtension?: unknown
}

/** Reads, merges and checks the configuration; throws an ActionError naming what is wrong. */
export function selectConfig(options: LoadOptions = {}): SelectedConfig {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const saDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR
  if (options.kubeconfig && options.kubeconfig.trim() !== '') {
    maskKubeconfigCredentials(options.kubeconfig)
    const doc = parseConfigText(options.kubeconfig, 'the kubeconfig input')
    return chooseContext(mergeConfigs([{ doc, dir: cwd }]), options.context, 'the kubeconfig input')
  }
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter(Boolean)
    const present = files.filter(f => existsSync(f))
    if (present.length === 0)
      throw new ActionError(`KUBECONFIG names ${files.join(', ')}, and none of them exists`, {
        hint: 'Write the kubeconfig before this step (e.g. aws eks update-kubeconfig), or fix KUBECONFIG.'
      })
    const docs = present.map(f => {
      const text = readFileSync(f, 'utf8')
      maskKubeconfigCredentials(text)
      return { doc: parseConfigText(text, f), dir: dirname(f) }
    })
    return chooseContext(mergeConfigs(docs), options.context, `KUBECONFIG (${files.join(delimiter)})`)
  }
  const home = env.HOME || homedir()
  const defaultFile = join(home, '.kube', 'config')
  if (home && existsSync(defaultFile)) {
    const text = readFileSync(defaultFile, 'utf8')
    maskKubeconfigCredentials(text)
    const doc = parseConfigText(text, defaultFile)
    return chooseContext(mergeConfigs([{ doc, dir: dirname(defaultFile) }]), options.context, defaultFile)
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(saDir, 'token'))) {
    return inClusterConfig(env, saDir, options.context)
  }
  throw new ActionError(
    'No Kubernetes credentials: the kubeconfig input is empty, KUBECONFIG is not set, ~/.kube/config does not exist and this is not a pod',
    { hint: 'Pass the kubeconfig input (from a secret), or write ~/.kube/config in an earlier step.' }
  )
}

/** The service account of the pod the runner is in; its token file is read again as it rotates. */
function inClusterConfig(env: NodeJS.ProcessEnv, saDir: string, context: string | undefined): SelectedConfig {
  if (context)
    throw new ActionError(`context ${JSON.stringify(context)} was given, but there is no kubeconfig`, {
      hint: 'In a pod the service account is the only identity; leave context empty or pass a kubeconfig.'
    })
  const host = env.KUBERNETES_SERVICE_HOST!.includes(':')
    ? `[${env.KUBERNETES_SERVICE_HOST}]`
    : env.KUBERNETES_SERVICE_HOST!
  const nsFile = join(saDir, 'namespace')
  return {
    origin: 'the in-cluster service account',
    contextName: 'in-cluster',
    namespace: existsSync(nsFile) ? readFileSync(nsFile, 'utf8').trim() || 'default' : 'default',
    userName: 'in-cluster service account',
    clusterName: 'in-cluster',
    cluster: {
      server: `https://${host}:${env.KUBERNETES_SERVICE_PORT || '443'}`,
      'certificate-authority': join(saDir, 'ca.crt')
    },
    user: {},
    authentication: { kind: 'token-file', path: join(saDir, 'token') }
  }
}

interface MergedConfig {
  clusters: Map<string, Fields>
  users: Map<string, Fields>
  contexts: Map<string, Fields>
  extensions: Map<string, unknown>
  currentContext: string
}

/** kubectl's merge: the first file that sets a name or current-context wins; paths made absolute. */
export function mergeConfigs(docs: { doc: Fields; dir: string }[]): MergedConfig {
  const merged: MergedConfig = {
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
    extensions: new Map(),
    currentContext: ''
  }
  for (const { doc, dir } of docs) {
    for (const e of entries(doc.clusters)) {
      if (merged.clusters.has(e.name)) continue
      const c = fieldsOf(e.cluster)
      merged.clusters.set(e.name, absolutePaths(c, ['certificate-authority'], dir))
      const ext = entries(c.extensions).find(x => x.name === 'client.authentication.k8s.io/exec')
      if (ext) merged.extensions.set(e.name, ext.extension)
    }
    for (const e of entries(doc.users)) {
      if (merged.users.has(e.name)) continue
      const u = absolutePaths(fieldsOf(e.user), ['client-certificate', 'client-key', 'tokenFile'], dir)
      const exec = u.exec as Fields | undefined
      // client-go resolves an exec command against the kubeconfig's folder only when it is a path.
      if (exec && typeof exec.command === 'string' && exec.command.includes('/') && !isAbsolute(exec.command))
        u.exec = { ...exec, command: join(dir, exec.command) }
      merged.users.set(e.name, u)
    }
    for (const e of entries(doc.contexts))
      if (!merged.contexts.has(e.name)) merged.contexts.set(e.name, fieldsOf(e.context))
    if (!merged.currentContext && typeof doc['current-context'] === 'string')
      merged.currentContext = doc['current-context']
  }
  return merged
}

/** Picks the context and checks everything it names; pure over the merged configuration. */
export function chooseContext(
  merged: MergedConfig,
  contextInput: string | undefined,
  origin: string
): SelectedConfig {
  const name = contextInput || merged.currentContext
  if (!name)
    throw new ActionError(`${origin} sets no current-context`, {
      hint: 'Set current-context in the kubeconfig or give the context input.'
    })
  const ctx = merged.contexts.get(name)
  if (!ctx)
    throw new ActionError(`context ${JSON.stringify(name)} is not in ${origin}`, {
      hint: `Contexts there: ${[...merged.contexts.keys()].join(', ') || 'none'}`
    })
  const clusterName = String(ctx.cluster ?? '')
  const cluster = merged.clusters.get(clusterName)
  if (!cluster)
    throw new ActionError(
      `context ${name} of ${origin} names cluster ${JSON.stringify(clusterName)}, which is not defined`
    )
  const where = `cluster ${clusterName} of ${origin}`
  if (typeof cluster.server !== 'string' || cluster.server === '')
    throw new ActionError(`${where} has no server URL`)
  if (!URL.canParse(cluster.server) || !/^https?:$/.test(new URL(cluster.server).protocol))
    throw new ActionError(`${where}: server ${JSON.stringify(cluster.server)} is not an http(s) URL`)
  if (
    cluster['insecure-skip-tls-verify'] === true &&
    (cluster['certificate-authority'] || cluster['certificate-authority-data'])
  )
    // kubectl refuses this combination too: the CA would silently not be checked.
    throw new ActionError(
      `${where} sets insecure-skip-tls-verify together with a certificate authority, which kubectl refuses`,
      { hint: 'Remove insecure-skip-tls-verify (the CA is then checked), or remove the CA.' }
    )
  const proxy = cluster['proxy-url']
  if (proxy !== undefined) {
    if (typeof proxy !== 'string' || !URL.canParse(proxy))
      throw new ActionError(`${where}: proxy-url ${JSON.stringify(proxy)} is not a URL`)
    if (!['http:', 'https:', 'socks5:'].includes(new URL(proxy).protocol))
      throw new ActionError(`${where}: proxy-url ${JSON.stringify(proxy)} must be http, https or socks5`)
  }
  const userName = String(ctx.user ?? '')
  const user = merged.users.get(userName)
  if (userName && !user)
    throw new ActionError(
      `context ${name} of ${origin} names user ${JSON.stringify(userName)}, which is not defined`
    )
  const u = user ?? {}
  const userWhere = `user ${userName} of ${origin}`
  return {
    origin,
    contextName: name,
    namespace: typeof ctx.namespace === 'string' && ctx.namespace ? ctx.namespace : 'default',
    userName: userName || '(no user)',
    clusterName,
    cluster: cluster as Fields & { server: string },
    user: u,
    authentication: authenticationOf(u, userWhere),
    impersonation: impersonationOf(u, userWhere),
    execExtension: merged.extensions.get(clusterName)
  }
}

/** client-go's order: static credentials first; then a token file; an exec plugin only without them. */
function authenticationOf(u: Fields, where: string): Authentication {
  const provider = u['auth-provider'] as { name?: string } | undefined
  if (provider) {
    if (provider.name === 'oidc') return { kind: 'oidc' }
    if (provider.name === 'gcp' || provider.name === 'azure')
      throw new ActionError(
        `${where} uses the ${provider.name} auth-provider, which client-go and kubectl removed in 1.26`,
        {
          hint:
            provider.name === 'gcp'
              ? 'Use the gke-gcloud-auth-plugin exec plugin (gcloud container clusters get-credentials writes it).'
              : 'Use the kubelogin exec plugin (az aks get-credentials, then kubelogin convert-kubeconfig).'
        }
      )
    throw new ActionError(
      `${where} uses the auth-provider ${JSON.stringify(provider.name)}, which is unknown`,
      {
        hint: 'Use an exec credential plugin, a token or a client certificate.'
      }
    )
  }
  if (typeof u.tokenFile === 'string' && u.tokenFile) return { kind: 'token-file', path: u.tokenFile }
  const hasStatic =
    Boolean(u.token) ||
    (Boolean(u.username) && u.password !== undefined) ||
    Boolean(u['client-certificate'] || u['client-certificate-data'])
  if (hasStatic) return { kind: 'static' }
  if (u.exec) return { kind: 'exec', exec: execConfigOf(u.exec as Fields, where) }
  return { kind: 'none' }
}

const EXEC_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']

function execConfigOf(e: Fields, where: string): ExecConfig {
  const apiVersion = String(e.apiVersion ?? '')
  if (!EXEC_VERSIONS.includes(apiVersion))
    throw new ActionError(
      `${where}: exec apiVersion ${JSON.stringify(apiVersion)} is not supported; use ${EXEC_VERSIONS.join(' or ')}`,
      {
        hint: 'client.authentication.k8s.io/v1alpha1 was removed in Kubernetes 1.24; regenerate the kubeconfig.'
      }
    )
  if (typeof e.command !== 'string' || e.command === '')
    throw new ActionError(`${where}: exec has no command`)
  // v1 requires interactiveMode (client-go refuses it missing); v1beta1 defaults to IfAvailable.
  const interactiveMode =
    typeof e.interactiveMode === 'string'
      ? e.interactiveMode
      : apiVersion.endsWith('/v1')
        ? ''
        : 'IfAvailable'
  if (interactiveMode === '')
    throw new ActionError(`${where}: exec with ${apiVersion} must set interactiveMode`, {
      hint: 'Add interactiveMode: Never (a workflow has no terminal).'
    })
  if (interactiveMode === 'Always')
    throw new ActionError(`${where}: the exec plugin needs a terminal (interactiveMode: Always)`, {
      hint: 'A workflow step has no terminal: use a plugin mode that needs no prompt (interactiveMode: Never).'
    })
  const env = Array.isArray(e.env)
    ? (e.env as Fields[]).map(v => ({ name: String(v.name ?? ''), value: String(v.value ?? '') }))
    : []
  return {
    apiVersion,
    command: e.command,
    args: Array.isArray(e.args) ? e.args.map(String) : [],
    env,
    installHint: typeof e.installHint === 'string' ? e.installHint : undefined,
    provideClusterInfo: e.provideClusterInfo === true,
    interactiveMode
  }
}

function impersonationOf(u: Fields, where: string): Impersonation | undefined {
  const groups = Array.isArray(u['as-groups']) ? u['as-groups'].map(String) : []
  const uid = typeof u['as-uid'] === 'string' && u['as-uid'] ? u['as-uid'] : undefined
  const extraRaw = (u['as-user-extra'] ?? {}) as Record<string, unknown>
  const extra: Record<string, string[]> = {}
  for (const [k, v] of Object.entries(extraRaw)) extra[k] = Array.isArray(v) ? v.map(String) : [String(v)]
  const user = typeof u.as === 'string' ? u.as : ''
  if (!user) {
    if (groups.length || uid || Object.keys(extra).length)
      throw new ActionError(`${where} sets as-groups, as-uid or as-user-extra without as`, {
        hint: 'Impersonating groups or extras needs a user to impersonate (as:), as kubectl requires.'
      })
    return undefined
  }
  return { user, uid, groups, extra }
}

/** The impersonation headers of the API's impersonation protocol. */
export function impersonationHeaders(i: Impersonation | undefined): Record<string, string | string[]> {
  if (!i) return {}
  const h: Record<string, string | string[]> = { 'Impersonate-User': i.user }
  if (i.uid) h['Impersonate-Uid'] = i.uid
  if (i.groups.length) h['Impersonate-Group'] = i.groups
  for (const [k, v] of Object.entries(i.extra)) h[`Impersonate-Extra-${encodeURIComponent(k)}`] = v
  return h
}

function parseConfigText(text: string, origin: string): Fields {
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
  return doc as Fields
}

function entries(list: unknown): Entry[] {
  return Array.isArray(list)
    ? (list as unknown[]).filter((e): e is Entry => !!e && typeof (e as Entry).name === 'string')
    : []
}

function fieldsOf(v: unknown): Fields {
  return v && typeof v === 'object' && !Array.isArray(v) ? { ...(v as Fields) } : {}
}

function absolutePaths(fields: Fields, keys: string[], dir: string): Fields {
  for (const k of keys) {
    const v = fields[k]
    if (typeof v === 'string' && v !== '' && !isAbsolute(v)) fields[k] = join(dir, v)
  }
  return fields
}

/** The credential fields of a kubeconfig user; each one found is masked, decoded forms too. */
const CREDENTIAL_FIELDS = ['token', 'password', 'client-key-data', 'client-certificate-data']
const PROVIDER_SECRETS = ['id-token', 'refresh-token', 'client-secret', 'access-token']

/**
 * Registers the credentials of a kubeconfig with the runner's masker: tokens, passwords, key and
 * certificate data, OIDC tokens and secrets. Never its lines: `apiVersion: v1` is no secret, and
 * masking it garbles every later line of the log. Unreadable YAML is masked whole.
 */
export function maskKubeconfigCredentials(text: string): void {
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch {
    if (text.trim()) maskValue(text)
    return
  }
  const users = (doc as { users?: unknown } | null)?.users
  for (const e of entries(users)) {
    const user = fieldsOf(e.user)
    for (const key of CREDENTIAL_FIELDS) {
      const v = user[key]
      if (typeof v !== 'string' || v === '') continue
      maskValue(v)
      if (key.endsWith('-data')) maskPem(Buffer.from(v, 'base64').toString('utf8'))
    }
    const provider = fieldsOf(user['auth-provider'])
    const config = fieldsOf(provider.config)
    for (const key of PROVIDER_SECRETS)
      if (typeof config[key] === 'string' && config[key]) maskValue(config[key])
    const exec = fieldsOf(user.exec)
    // Plugin environment often carries a secret (AWS_SECRET_ACCESS_KEY, a client secret).
    for (const v of Array.isArray(exec.env) ? (exec.env as Fields[]) : [])
      if (
        typeof v.value === 'string' &&
        v.value.length >= 8 &&
        /secret|token|key|password/i.test(String(v.name))
      )
        maskValue(v.value)
  }
}
