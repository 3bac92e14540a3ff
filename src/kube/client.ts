/**
 * The thin adapter over the Kubernetes API: authenticated JSON requests, streaming watches,
 * discovery of kinds, and a count of every request made. Credentials come from kubeconfig
 * content, the KUBECONFIG file or the in-cluster service account (our own loader, kubeconfig.ts, reads
 * them; the requests themselves are plain HTTPS so that watches, retries and
 * counting stay in one place).
 */
import * as http from 'node:http'
import * as https from 'node:https'
import { ActionError } from '../runtime/index.js'
import type { LoadOptions, ResolvedCredentials } from './kubeconfig.js'
import { loadCredentials } from './kubeconfig.js'

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  contentType?: string
  timeoutMs?: number
  /** Retry connection failures and 429/503 within this budget (the API server restarting). */
  retryForMs?: number
}

export interface ApiStatus {
  kind?: string
  status?: string
  message?: string
  reason?: string
  code?: number
  details?: {
    name?: string
    group?: string
    kind?: string
    causes?: { field?: string; message?: string; reason?: string }[]
  }
}

/** A request the API server answered with an error status. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly apiStatus: ApiStatus,
    readonly verb: string,
    readonly path: string
  ) {
    super(apiStatus.message ?? `HTTP ${status} for ${verb} ${path}`)
    this.name = 'KubeApiError'
  }
  get reason(): string {
    return this.apiStatus.reason ?? ''
  }
}

/** The connection to the API server failed (refused, reset, timed out). */
export class KubeConnectionError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined
  ) {
    super(message)
    this.name = 'KubeConnectionError'
  }
}

export interface WatchEvent<T = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  object: T
}

export class KubeClient {
  /** Every HTTP request sent, watches and retries included. */
  requests = 0
  readonly requestLog: string[] = []
  private readonly headers: Record<string, string> = {}
  private readonly agent: http.Agent
  private readonly discovery = new Map<
    string,
    Promise<Map<string, { name: string; namespaced: boolean; verbs: string[] }>>
  >()
  private constructor(readonly credentials: ResolvedCredentials) {
    const c = credentials
    if (c.token) this.headers.Authorization = `Bearer ${c.token}`
    else if (c.basic) this.headers.Authorization = `Basic ${c.basic}`
    this.agent =
      c.server.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            ca: c.ca,
            cert: c.cert,
            key: c.key,
            rejectUnauthorized: !c.insecure,
            servername: c.servername
          })
        : new http.Agent({ keepAlive: true })
  }

  get server(): URL {
    return this.credentials.server
  }
  get defaultNamespace(): string {
    return this.credentials.namespace
  }
  get user(): string {
    return this.credentials.user
  }

  /** Loads credentials (masking each one) from the kubeconfig input, KUBECONFIG or the pod. */
  static async connect(options: LoadOptions = {}): Promise<KubeClient> {
    return new KubeClient(loadCredentials(options))
  }

  close(): void {
    this.agent.destroy()
  }

  private url(path: string, query?: RequestOptions['query']): URL {
    const url = new URL(path, this.server)
    if (this.server.pathname !== '/' && !path.startsWith(this.server.pathname))
      url.pathname = this.server.pathname.replace(/\/$/, '') + path
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v))
    return url
  }

  /** One JSON request; API errors become KubeApiError, network errors KubeConnectionError. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const deadline = Date.now() + (options.retryForMs ?? 0)
    let delay = 250
    for (;;) {
      try {
        return await this.once<T>(method, path, options)
      } catch (err) {
        const retriable =
          err instanceof KubeConnectionError ||
          (err instanceof KubeApiError && (err.status === 429 || err.status === 503 || err.status === 504))
        if (!retriable || Date.now() + delay > deadline) throw err
        await sleep(delay)
        delay = Math.min(delay * 2, 2000)
      }
    }
  }

  private once<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const url = this.url(path, options.query)
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body)
    this.requests++
    this.requestLog.push(`${method} ${url.pathname}${url.search}`)
    const lib = url.protocol === 'https:' ? https : http
    return new Promise<T>((resolve, reject) => {
      const req = lib.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            ...this.headers,
            Accept: 'application/json',
            'User-Agent': 'otlp-deploy-actions/rollout',
            ...(body !== undefined
              ? {
                  'Content-Type': options.contentType ?? 'application/json',
                  'Content-Length': Buffer.byteLength(body)
                }
              : {})
          },
          timeout: options.timeoutMs ?? 30_000
        },
        res => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('error', err =>
            reject(
              new KubeConnectionError(
                `${method} ${url.pathname}: ${err.message}`,
                (err as NodeJS.ErrnoException).code
              )
            )
          )
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            const status = res.statusCode ?? 0
            if (status >= 200 && status < 300) {
              if (url.pathname.endsWith('/log')) return resolve(text as T)
              try {
                resolve((text === '' ? {} : JSON.parse(text)) as T)
              } catch {
                reject(
                  new KubeConnectionError(`${method} ${url.pathname}: the answer is not JSON`, undefined)
                )
              }
              return
            }
            let apiStatus: ApiStatus
            try {
              apiStatus = JSON.parse(text) as ApiStatus
            } catch {
              apiStatus = { message: text.trim() || `HTTP ${status}`, code: status }
            }
            reject(new KubeApiError(status, apiStatus, verbOf(method, url), url.pathname))
          })
        }
      )
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })))
      req.on('error', err =>
        reject(
          new KubeConnectionError(
            `${method} ${url.host}${url.pathname}: ${err.message}`,
            (err as NodeJS.ErrnoException).code
          )
        )
      )
      if (body !== undefined) req.write(body)
      req.end()
    })
  }

  /**
   * Streams a watch until the server ends it (its timeoutSeconds), `signal` aborts, or the
   * connection breaks (KubeConnectionError). Each decoded event goes to `onEvent`.
   */
  watch(
    path: string,
    query: RequestOptions['query'],
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal
  ): Promise<void> {
    const url = this.url(path, { ...query, watch: 'true' })
    this.requests++
    this.requestLog.push(`WATCH ${url.pathname}${url.search}`)
    const lib = url.protocol === 'https:' ? https : http
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return resolve()
      const req = lib.request(
        url,
        { method: 'GET', agent: this.agent, headers: { ...this.headers, Accept: 'application/json' } },
        res => {
          const status = res.statusCode ?? 0
          if (status < 200 || status > 299) {
            let text = ''
            res.on('data', (c: Buffer) => (text += c.toString()))
            res.on('end', () => {
              let apiStatus: ApiStatus = { message: text.trim() || `HTTP ${status}` }
              try {
                apiStatus = JSON.parse(text) as ApiStatus
              } catch {
                // keep the text
              }
              reject(new KubeApiError(status, apiStatus, 'watch', url.pathname))
            })
            return
          }
          let buffer = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => {
            buffer += chunk
            let nl: number
            while ((nl = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, nl).trim()
              buffer = buffer.slice(nl + 1)
              if (line === '') continue
              try {
                onEvent(JSON.parse(line) as WatchEvent)
              } catch (err) {
                req.destroy(err as Error)
              }
            }
          })
          res.on('end', () => resolve())
          res.on('error', err =>
            signal.aborted
              ? resolve()
              : reject(
                  new KubeConnectionError(
                    `watch ${url.pathname}: ${err.message}`,
                    (err as NodeJS.ErrnoException).code
                  )
                )
          )
          res.on('aborted', () =>
            signal.aborted
              ? resolve()
              : reject(
                  new KubeConnectionError(`watch ${url.pathname}: the server closed the stream`, 'ECONNRESET')
                )
          )
        }
      )
      const abort = () => {
        req.destroy()
        resolve()
      }
      signal.addEventListener('abort', abort, { once: true })
      // A silent connection (a half-open socket after an API server restart) is cut after 90 s.
      req.setTimeout(90_000, () =>
        req.destroy(Object.assign(new Error('no data for 90s'), { code: 'ETIMEDOUT' }))
      )
      req.on('error', err => {
        signal.removeEventListener('abort', abort)
        if (signal.aborted) resolve()
        else
          reject(
            new KubeConnectionError(
              `watch ${url.host}${url.pathname}: ${err.message}`,
              (err as NodeJS.ErrnoException).code
            )
          )
      })
      req.on('close', () => signal.removeEventListener('abort', abort))
      req.end()
    })
  }

  /** The REST resource (plural, namespaced) of a kind, from API discovery (cached per group version). */
  async resourceFor(
    apiVersion: string,
    kind: string
  ): Promise<{ name: string; namespaced: boolean; verbs: string[] } | undefined> {
    let resources = this.discovery.get(apiVersion)
    if (!resources) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
      resources = this.request<{
        resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[]
      }>('GET', path, { retryForMs: 30_000 })
        .then(list => {
          const map = new Map<string, { name: string; namespaced: boolean; verbs: string[] }>()
          for (const r of list.resources ?? [])
            if (!r.name.includes('/'))
              map.set(r.kind, { name: r.name, namespaced: r.namespaced, verbs: r.verbs ?? [] })
          return map
        })
        .catch(err => {
          if (err instanceof KubeApiError && err.status === 404) return new Map()
          throw err
        })
      this.discovery.set(apiVersion, resources)
    }
    return (await resources).get(kind)
  }

  /** The collection path of a resource: /apis/apps/v1/namespaces/ns/deployments. */
  static collectionPath(apiVersion: string, resource: string, namespace: string | undefined): string {
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
    return namespace
      ? `${base}/namespaces/${encodeURIComponent(namespace)}/${resource}`
      : `${base}/${resource}`
  }
}

function verbOf(method: string, url: URL): string {
  switch (method) {
    case 'GET':
      return url.searchParams.get('watch')
        ? 'watch'
        : /\/namespaces\/[^/]+\/[^/]+$|^\/apis?\/[^/]+(\/[^/]+)?\/[^/]+$/.test(url.pathname)
          ? 'list'
          : 'get'
    case 'POST':
      return 'create'
    case 'PUT':
      return 'update'
    case 'PATCH':
      return 'patch'
    case 'DELETE':
      return 'delete'
    default:
      return method.toLowerCase()
  }
}

/**
 * Turns an API error into the suite's error type with a message a person can act on. A 403 names
 * the verb, the resource and the namespace the credentials lack.
 */
export function describeApiError(err: unknown, doing: string): ActionError {
  if (err instanceof ActionError) return err
  if (err instanceof KubeApiError) {
    if (err.status === 403) {
      const m =
        /cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?/.exec(
          err.message
        )
      const verb = m?.[1] ?? err.verb
      const resource = m ? `${m[2]}${m[3] ? `.${m[3]}` : ''}` : err.path
      const where = m?.[4] ? `in namespace ${m[4]}` : 'at cluster scope'
      return new ActionError(
        `Forbidden while ${doing}: the credentials may not ${verb} ${resource} ${where}`,
        {
          hint: `Grant the verb "${verb}" on "${resource}" ${where} to the deployer (a Role and RoleBinding), or use credentials that have it. The API server said: ${err.message}`,
          cause: err
        }
      )
    }
    if (err.status === 401) {
      return new ActionError(`Unauthorized while ${doing}: the API server rejected the credentials`, {
        hint: 'The token or client certificate is invalid or expired; refresh the kubeconfig secret.',
        cause: err
      })
    }
    return new ActionError(`${doing} failed: ${err.message}`, { cause: err })
  }
  if (err instanceof KubeConnectionError) {
    return new ActionError(`${doing} failed: cannot reach the API server (${err.message})`, {
      hint: 'Check the server URL of the kubeconfig and that the runner can reach it.',
      cause: err
    })
  }
  return new ActionError(`${doing} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err })
}

export function sleep(ms: number): Promise<void> {
  return new Promise(r => setTimeout(r, ms))
}
