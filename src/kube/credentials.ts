/**
 * Credentials that expire, as @kubernetes/client-node authenticators that can be told to start
 * again after a 401. The library's own exec authenticator hands the plugin the whole environment
 * (the action's INPUT_* values included), never re-runs it after a 401, ignores provideClusterInfo,
 * installHint and the kubeconfig's folder, and drops the plugin's stderr; its token-file reader
 * cannot be told to read again; its OIDC refresh does not work (see OidcCredentials).
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { RequestOptions } from 'node:https'
import type { Authenticator } from '@kubernetes/client-node/dist/auth.js'
import type { User } from '@kubernetes/client-node/dist/config_types.js'
import { ActionError, childEnv, maskPem, maskValue } from '../runtime/index.js'
import type { ExecConfig } from './kubeconfig.js'

/** The auth-provider name the action gives a user whose credentials it refreshes itself. */
export const REFRESHED_PROVIDER = 'otlp-deploy-actions'

/** An authenticator that can drop what it holds, so the next request fetches fresh credentials. */
export interface CredentialSource extends Authenticator {
  /** How it authenticates, for the log ("exec plugin aws", "token file /var/run/..."). */
  readonly description: string
  /** Forget the current credential; false when there is nothing that could be fetched again. */
  invalidate(): boolean
}

type Headers = Record<string, string | string[] | number>

function setBearer(opts: RequestOptions, token: string): void {
  opts.headers = { ...((opts.headers as Headers | undefined) ?? {}), Authorization: `Bearer ${token}` }
}

interface ExecResult {
  token?: string
  cert?: string
  key?: string
  /** Epoch ms; undefined: valid until a 401 says otherwise. */
  expiresAt?: number
}

/** What the plugin learns of the cluster when the kubeconfig sets provideClusterInfo. */
export interface ExecClusterInfo {
  server: string
  'certificate-authority-data'?: string
  'tls-server-name'?: string
  'insecure-skip-tls-verify'?: boolean
  'proxy-url'?: string
  config?: unknown
}

/**
 * A client.authentication.k8s.io exec plugin (aws eks get-token, gke-gcloud-auth-plugin,
 * kubelogin). Its credential is kept until shortly before its expirationTimestamp, or until a 401;
 * concurrent requests share one run.
 */
export class ExecCredentials implements CredentialSource {
  runs = 0
  private cached: ExecResult | undefined
  private obtainedAt = 0
  private pending: Promise<ExecResult> | undefined

  constructor(
    private readonly exec: ExecConfig,
    private readonly userName: string,
    private readonly cluster: ExecClusterInfo | undefined,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly timeoutMs = 60_000
  ) {}

  get description(): string {
    return `exec plugin ${this.exec.command} (${this.exec.apiVersion.split('/').pop()})`
  }

  isAuthProvider(user: User): boolean {
    return (user.authProvider as { name?: string } | undefined)?.name === REFRESHED_PROVIDER
  }

  async applyAuthentication(_user: User, opts: RequestOptions): Promise<void> {
    const c = await this.credential()
    if (c.token) setBearer(opts, c.token)
    if (c.cert && c.key) {
      opts.cert = c.cert
      opts.key = c.key
    }
  }

  invalidate(): boolean {
    this.cached = undefined
    return true
  }

  private fresh(now: number): boolean {
    const c = this.cached
    if (!c) return false
    if (c.expiresAt === undefined) return true
    // Renew a little early (a fifth of its life, at most 10 s) so no request leaves with a token
    // that expires on the way.
    const margin = Math.min(10_000, (c.expiresAt - this.obtainedAt) / 5)
    return now < c.expiresAt - margin
  }

  private async credential(): Promise<ExecResult> {
    if (this.fresh(Date.now())) return this.cached!
    this.pending ??= this.run().finally(() => (this.pending = undefined))
    return this.pending
  }

  private run(): Promise<ExecResult> {
    this.runs++
    const spec: Record<string, unknown> = { interactive: false }
    if (this.exec.provideClusterInfo && this.cluster) spec.cluster = this.cluster
    const info = JSON.stringify({ apiVersion: this.exec.apiVersion, kind: 'ExecCredential', spec })
    const add: Record<string, string> = {}
    for (const e of this.exec.env) add[e.name] = e.value
    add.KUBERNETES_EXEC_INFO = info
    const who = `the exec credential plugin of user ${this.userName} (${this.exec.command})`
    return new Promise<ExecResult>((resolve, reject) => {
      const child = spawn(this.exec.command, this.exec.args, {
        env: childEnv(this.env, { add }),
        stdio: ['ignore', 'pipe', 'pipe']
      })
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs)
      timer.unref()
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => {
        if (stdout.length < 1 << 20) stdout += d.toString('utf8')
      })
      child.stderr.on('data', (d: Buffer) => {
        if (stderr.length < 8192) stderr += d.toString('utf8')
      })
      child.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        const hint =
          err.code === 'ENOENT'
            ? (this.exec.installHint?.trim() ??
              `Install ${this.exec.command} on the runner (an earlier step), or pass a kubeconfig with a token or client certificate.`)
            : 'Check that the plugin can run on the runner.'
        reject(new ActionError(`${who} could not be started: ${err.code ?? err.message}`, { hint }))
      })
      child.on('close', (code, signal) => {
        clearTimeout(timer)
        if (code !== 0) {
          const tail = stderr.trim().split('\n').slice(-5).join('\n')
          reject(
            new ActionError(
              `${who} failed (${signal ? `killed by ${signal}` : `exit code ${code}`})${tail ? `: ${tail}` : ''}`,
              {
                hint:
                  this.exec.installHint?.trim() ??
                  'Run the plugin by hand with the same environment to see why; its credentials may be missing or expired.'
              }
            )
          )
          return
        }
        try {
          const result = parseExecCredential(stdout, this.exec.apiVersion)
          if (result.token) maskValue(result.token)
          if (result.key) maskPem(result.key)
          this.cached = result
          this.obtainedAt = Date.now()
          resolve(result)
        } catch (err) {
          reject(new ActionError(`${who} printed no usable ExecCredential: ${(err as Error).message}`))
        }
      })
    })
  }
}

/** The plugin's answer, checked as client-go checks it. Pure. */
export function parseExecCredential(stdout: string, apiVersion: string): ExecResult {
  let doc: { apiVersion?: string; kind?: string; status?: Record<string, unknown> }
  try {
    doc = JSON.parse(stdout) as typeof doc
  } catch {
    throw new Error('its output is not JSON')
  }
  if (doc.kind !== 'ExecCredential')
    throw new Error(`kind is ${JSON.stringify(doc.kind)}, not ExecCredential`)
  if (doc.apiVersion !== apiVersion)
    throw new Error(`apiVersion ${JSON.stringify(doc.apiVersion)} does not match the requested ${apiVersion}`)
  const s = doc.status ?? {}
  const token = typeof s.token === 'string' && s.token ? s.token : undefined
  const cert =
    typeof s.clientCertificateData === 'string' && s.clientCertificateData
      ? s.clientCertificateData
      : undefined
  const key = typeof s.clientKeyData === 'string' && s.clientKeyData ? s.clientKeyData : undefined
  if (!token && !(cert && key)) throw new Error('status has neither a token nor a client certificate and key')
  if (Boolean(cert) !== Boolean(key))
    throw new Error('status has a client certificate without its key, or a key without its certificate')
  let expiresAt: number | undefined
  if (typeof s.expirationTimestamp === 'string' && s.expirationTimestamp) {
    expiresAt = Date.parse(s.expirationTimestamp)
    if (Number.isNaN(expiresAt))
      throw new Error(`expirationTimestamp ${JSON.stringify(s.expirationTimestamp)} is not a time`)
  }
  return { token, cert, key, expiresAt }
}

/**
 * A bearer token read from a file, read again every minute as client-go does (a projected service
 * account token rotates) and at once after a 401.
 */
export class TokenFileCredentials implements CredentialSource {
  reads = 0
  private token = ''
  private readAt = 0

  constructor(
    private readonly path: string,
    private readonly periodMs = 60_000
  ) {}

  get description(): string {
    return `token file ${this.path}`
  }

  isAuthProvider(user: User): boolean {
    return (user.authProvider as { name?: string } | undefined)?.name === REFRESHED_PROVIDER
  }

  async applyAuthentication(_user: User, opts: RequestOptions): Promise<void> {
    if (!this.token || Date.now() - this.readAt >= this.periodMs) this.read()
    setBearer(opts, this.token)
  }

  invalidate(): boolean {
    this.readAt = 0
    return true
  }

  private read(): void {
    let text: string
    try {
      text = readFileSync(this.path, 'utf8').trim()
    } catch (err) {
      // Keep the last token when the file is replaced at the moment we read it (the kubelet swaps a symlink).
      if (this.token) return
      throw new ActionError(
        `the token file ${this.path} cannot be read: ${(err as NodeJS.ErrnoException).code}`
      )
    }
    this.reads++
    if (!text) {
      if (this.token) return
      throw new ActionError(`the token file ${this.path} is empty`)
    }
    maskValue(text)
    this.token = text
    this.readAt = Date.now()
  }
}

/**
 * An OIDC id-token (kubectl's `auth-provider: oidc`), refreshed with openid-client at the issuer
 * when it expires or after a 401. @kubernetes/client-node 2.0's own refresh cannot be used: it
 * hands openid-client the issuer as a string (openid-client 6 needs a URL), drops the client
 * secret, and after a refresh stores the seconds left as if they were a timestamp.
 */
export class OidcCredentials implements CredentialSource {
  readonly description = 'OIDC id-token (refreshed by its issuer)'
  refreshes = 0
  private idToken: string
  private refreshToken: string
  private expiresAt: number
  private pending: Promise<void> | undefined

  constructor(
    private readonly config: Record<string, string>,
    private readonly userName: string
  ) {
    this.idToken = config['id-token'] ?? ''
    this.refreshToken = config['refresh-token'] ?? ''
    this.expiresAt = jwtExpiry(this.idToken)
  }

  isAuthProvider(user: User): boolean {
    return (user.authProvider as { name?: string } | undefined)?.name === REFRESHED_PROVIDER
  }

  async applyAuthentication(_user: User, opts: RequestOptions): Promise<void> {
    if (!this.idToken || Date.now() >= this.expiresAt) {
      this.pending ??= this.refresh().finally(() => (this.pending = undefined))
      await this.pending
    }
    setBearer(opts, this.idToken)
  }

  invalidate(): boolean {
    if (!this.refreshToken) return false
    this.expiresAt = 0
    return true
  }

  private async refresh(): Promise<void> {
    const c = this.config
    const who = `the OIDC auth-provider of user ${this.userName}`
    if (!this.refreshToken || !c['idp-issuer-url'] || !c['client-id'])
      throw new ActionError(
        `${who}: the id-token has expired and there is no refresh-token, idp-issuer-url or client-id to renew it`,
        {
          hint: "Log in again (kubectl oidc-login, or your identity provider's CLI) and store the new kubeconfig."
        }
      )
    const oidc = await import('openid-client')
    const ca = c['idp-certificate-authority-data']
      ? Buffer.from(c['idp-certificate-authority-data'], 'base64')
      : c['idp-certificate-authority']
        ? readFileSync(c['idp-certificate-authority'])
        : undefined
    const options: Record<symbol, unknown> = {}
    if (ca) {
      const undici = await import('undici')
      const dispatcher = new undici.Agent({ connect: { ca } })
      options[oidc.customFetch] = (url: string, init: Record<string, unknown>) =>
        undici.fetch(url, { ...init, dispatcher } as never)
    }
    try {
      const config = await oidc.discovery(
        new URL(c['idp-issuer-url']),
        c['client-id'],
        c['client-secret'] || undefined,
        undefined,
        options
      )
      const tokens = await oidc.refreshTokenGrant(config, this.refreshToken)
      if (!tokens.id_token) throw new Error('the issuer answered without an id_token')
      this.refreshes++
      this.idToken = tokens.id_token
      if (tokens.refresh_token) this.refreshToken = tokens.refresh_token
      maskValue(this.idToken)
      maskValue(this.refreshToken)
      this.expiresAt = jwtExpiry(this.idToken)
    } catch (err) {
      throw new ActionError(
        `${who} could not refresh its id-token at ${c['idp-issuer-url']}: ${(err as Error).message}`,
        {
          hint: 'The refresh token may have expired or been revoked: log in again and store the new kubeconfig.'
        }
      )
    }
  }
}

/** The `exp` of a JWT in epoch ms; 0 (expired) when it has none or is not a JWT. */
export function jwtExpiry(token: string): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: number
    }
    return typeof payload.exp === 'number' ? payload.exp * 1000 : 0
  } catch {
    return 0
  }
}

/**
 * The job's own OIDC token from GitHub Actions (`permissions: id-token: write`), for a cluster that
 * trusts GitHub's issuer (EKS, GKE and AKS through their federation, a self-hosted API server
 * through its JWT authenticator): no long-lived secret in the repository. `@actions/core`'s
 * getIDToken asks the runner's token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) for the audience the
 * cluster expects. A token is asked for again before it expires (a quarter of its lifetime, at most
 * a minute, ahead), and after a 401, so a rollback late in a long run still authenticates.
 */
export class GitHubOidcCredentials implements CredentialSource {
  fetches = 0
  private token = ''
  private issuedAt = 0
  private expiresAt = 0

  constructor(
    private readonly audience: string,
    private readonly fetchToken: (audience: string) => Promise<string>
  ) {}

  get description(): string {
    return `GitHub Actions OIDC token (audience ${this.audience})`
  }

  isAuthProvider(user: User): boolean {
    return (user.authProvider as { name?: string } | undefined)?.name === REFRESHED_PROVIDER
  }

  async applyAuthentication(_user: User, opts: RequestOptions): Promise<void> {
    if (!this.token || Date.now() >= this.refreshAt()) await this.fetch()
    setBearer(opts, this.token)
  }

  invalidate(): boolean {
    this.token = ''
    return true
  }

  /** When to ask again: a quarter of the lifetime before exp, at most a minute before. */
  refreshAt(): number {
    const margin = Math.min(60_000, (this.expiresAt - this.issuedAt) / 4)
    return this.expiresAt - margin
  }

  private async fetch(): Promise<void> {
    let token: string
    try {
      token = await this.fetchToken(this.audience)
    } catch (err) {
      throw new ActionError(
        `the job's OIDC token for audience ${this.audience} could not be had: ${(err as Error).message}`,
        {
          hint: 'Give the job permissions: id-token: write (and run it on GitHub Actions, where the runner serves the token).'
        }
      )
    }
    maskValue(token)
    this.fetches++
    this.token = token
    this.issuedAt = Date.now()
    this.expiresAt = jwtExpiry(token) || this.issuedAt + 5 * 60_000
  }
}
