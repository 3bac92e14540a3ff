/**
 * The thin adapter over the Kubernetes API: JSON requests, streaming watches, discovery of kinds,
 * and a count of every request made. Configuration, credentials, TLS and proxies come from
 * @kubernetes/client-node (access.ts); the requests themselves stay here because the verdict
 * logic needs what the library's informer does not give: every watch event as it arrives, a
 * resourceVersion to resume from, and a bounded log of what was sent.
 */
import * as http from 'node:http'
import * as https from 'node:https'
import { ActionError } from '../runtime/index.js'
import type { KubeAccess } from './access.js'
import { connectAccess } from './access.js'
import type { LoadOptions } from './kubeconfig.js'
import { selectConfig } from './kubeconfig.js'

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  contentType?: string
  timeoutMs?: number
  /**
   * Retry connection failures and 429/503/504 within this budget (the API server restarting).
   * Without it, only answers that carry Retry-After are retried, up to 30 s in all.
   */
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
    readonly path: string,
    /** Seconds the server asked us to wait (Retry-After), when it said so. */
    readonly retryAfterSeconds?: number
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

/** The most of an error body kept: a load balancer's HTML page must not reach the summary whole. */
const ERROR_BODY_LIMIT = 4096
/** The request log keeps the first and the last requests; the count stays exact. */
const REQUEST_LOG_LIMIT = 400
/** client-go's limit on answers that ask to be retried later. */
const MAX_RETRY_AFTER = 10

/** A kind's REST resource as discovery lists it. */
export interface ApiResource {
  name: string
  namespaced: boolean
  verbs: string[]
  /** It has a status subresource: a controller reports on it. */
  status: boolean
}

export class KubeClient {
  /** Every HTTP request sent, watches and retries included. */
  requests = 0
  readonly requestLog: string[] = []
  /** Times a credential was fetched again after the API server answered 401. */
  reauthentications = 0
  private readonly discovery = new Map<string, Promise<Map<string, ApiResource>>>()
  private constructor(readonly access: KubeAccess) {}

  get server(): URL {
    return this.access.server
  }
  get defaultNamespace(): string {
    return this.access.namespace
  }
  get user(): string {
    return this.access.user
  }

  /**
   * Reads the configuration (the kubeconfig input, KUBECONFIG, ~/.kube/config or the pod's service
   * account), masking each credential, and prepares the connection. Sends no request.
   */
  static async connect(options: LoadOptions = {}): Promise<KubeClient> {
    return new KubeClient(await connectAccess(selectConfig(options), options.oidcAudience))
  }

  close(): void {
    this.access.close()
  }

  private url(path: string, query?: RequestOptions['query']): URL {
    const url = new URL(path, this.server)
    if (this.server.pathname !== '/' && !path.startsWith(this.server.pathname))
      url.pathname = this.server.pathname.replace(/\/$/, '') + path
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v))
    return url
  }

  private record(line: string): void {
    this.requests++
    if (this.requestLog.length < REQUEST_LOG_LIMIT) this.requestLog.push(line)
    else this.requestLog[REQUEST_LOG_LIMIT / 2 + (this.requests % (REQUEST_LOG_LIMIT / 2))] = line
  }

  /**
   * One JSON request; API errors become KubeApiError, network errors KubeConnectionError. A 401 is
   * answered once by fetching the credential again (an exec plugin's token that expired early, a
   * rotated token file); Retry-After on 429 and 5xx is honoured as client-go honours it.
   */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const started = Date.now()
    const deadline = started + (options.retryForMs ?? 30_000)
    let delay = 250
    let retriedAfter = 0
    let reauthenticated = false
    for (;;) {
      try {
        return await this.once<T>(method, path, options)
      } catch (err) {
        if (
          err instanceof KubeApiError &&
          err.status === 401 &&
          !reauthenticated &&
          this.access.invalidate()
        ) {
          reauthenticated = true
          this.reauthentications++
          continue
        }
        const wait = retryDelay(err, delay, options.retryForMs !== undefined)
        if (wait === undefined || Date.now() + wait > deadline) throw err
        if (err instanceof KubeApiError && err.retryAfterSeconds !== undefined) {
          if (++retriedAfter > MAX_RETRY_AFTER) throw err
        } else delay = Math.min(delay * 2, 2000)
        await sleep(wait)
      }
    }
  }

  private async once<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const url = this.url(path, options.query)
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body)
    const base = await this.requestBase()
    this.record(`${method} ${url.pathname}${url.search}`)
    const lib = url.protocol === 'https:' ? https : http
    return new Promise<T>((resolve, reject) => {
      const req = lib.request(
        url,
        {
          ...base,
          method,
          headers: {
            ...base.headers,
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
          const status = res.statusCode ?? 0
          const ok = status >= 200 && status < 300
          const chunks: Buffer[] = []
          let kept = 0
          let total = 0
          res.on('data', (c: Buffer) => {
            total += c.length
            // Success bodies are read whole (lists, logs already limited by limitBytes); error
            // bodies only as far as a message needs.
            if (ok || kept < ERROR_BODY_LIMIT) {
              chunks.push(c)
              kept += c.length
            }
          })
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
            if (ok) {
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
            reject(
              new KubeApiError(
                status,
                apiStatusOf(text, status, String(res.headers['content-type'] ?? ''), total),
                verbOf(method, url),
                url.pathname,
                retryAfterOf(res.headers['retry-after'])
              )
            )
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

  /** The library's options for one request: TLS, agent (proxy), authentication, impersonation. */
  private async requestBase(): Promise<https.RequestOptions & { headers: http.OutgoingHttpHeaders }> {
    const base = await this.access.requestOptions()
    return { ...base, headers: (base.headers ?? {}) as http.OutgoingHttpHeaders }
  }

  /**
   * Streams a watch until the server ends it (its timeoutSeconds), `signal` aborts, or the
   * connection breaks (KubeConnectionError). Each decoded event goes to `onEvent`; resolves with
   * the number of events received, so the caller can tell a watch that ended at once from one
   * that ran. A 401 fetches the credential again before the error reaches the caller.
   */
  async watch(
    path: string,
    query: RequestOptions['query'],
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal
  ): Promise<number> {
    const url = this.url(path, { ...query, watch: 'true' })
    const base = await this.requestBase()
    this.record(`WATCH ${url.pathname}${url.search}`)
    const lib = url.protocol === 'https:' ? https : http
    let events = 0
    return new Promise<number>((resolve, reject) => {
      if (signal.aborted) return resolve(events)
      const req = lib.request(
        url,
        { ...base, method: 'GET', headers: { ...base.headers, Accept: 'application/json' } },
        res => {
          const status = res.statusCode ?? 0
          if (status < 200 || status > 299) {
            let text = ''
            res.on('data', (c: Buffer) => {
              if (text.length < ERROR_BODY_LIMIT) text += c.toString()
            })
            res.on('end', () => {
              if (status === 401) this.access.invalidate()
              reject(
                new KubeApiError(
                  status,
                  apiStatusOf(text, status, String(res.headers['content-type'] ?? ''), text.length),
                  'watch',
                  url.pathname,
                  retryAfterOf(res.headers['retry-after'])
                )
              )
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
                events++
                onEvent(JSON.parse(line) as WatchEvent)
              } catch (err) {
                req.destroy(err as Error)
              }
            }
          })
          res.on('end', () => resolve(events))
          res.on('error', err =>
            signal.aborted
              ? resolve(events)
              : reject(
                  new KubeConnectionError(
                    `watch ${url.pathname}: ${err.message}`,
                    (err as NodeJS.ErrnoException).code
                  )
                )
          )
          res.on('aborted', () =>
            signal.aborted
              ? resolve(events)
              : reject(
                  new KubeConnectionError(`watch ${url.pathname}: the server closed the stream`, 'ECONNRESET')
                )
          )
        }
      )
      const abort = () => {
        req.destroy()
        resolve(events)
      }
      signal.addEventListener('abort', abort, { once: true })
      // A silent connection (a half-open socket after an API server restart) is cut after 90 s.
      req.setTimeout(90_000, () =>
        req.destroy(Object.assign(new Error('no data for 90s'), { code: 'ETIMEDOUT' }))
      )
      req.on('error', err => {
        signal.removeEventListener('abort', abort)
        if (signal.aborted) resolve(events)
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
  async resourceFor(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
    let resources = this.discovery.get(apiVersion)
    if (!resources) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
      resources = this.request<{
        resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[]
      }>('GET', path, { retryForMs: 30_000 })
        .then(list => {
          const map = new Map<string, ApiResource>()
          const names = new Set((list.resources ?? []).map(r => r.name))
          for (const r of list.resources ?? [])
            if (!r.name.includes('/'))
              map.set(r.kind, {
                name: r.name,
                namespaced: r.namespaced,
                verbs: r.verbs ?? [],
                status: names.has(`${r.name}/status`)
              })
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

  /**
   * Deletes the object at `path` with background propagation (what it owns follows). False when it
   * was already gone (404): the caller wanted it gone, and it is.
   */
  async deleteObject(path: string): Promise<boolean> {
    try {
      await this.request('DELETE', path, {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
        retryForMs: 30_000
      })
      return true
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return false
      throw err
    }
  }

  /** Forgets what discovery said of a group version (a CRD of the release has just been established). */
  forgetDiscovery(apiVersion: string): void {
    this.discovery.delete(apiVersion)
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

/**
 * The Status in an error body, or a short stand-in for a body that is none (a proxy's or load
 * balancer's HTML page): its status, type and size, and the start of its text without markup.
 */
export function apiStatusOf(text: string, status: number, contentType: string, size: number): ApiStatus {
  try {
    const parsed = JSON.parse(text) as ApiStatus
    if (parsed && typeof parsed === 'object' && (parsed.message || parsed.kind === 'Status')) return parsed
  } catch {
    // not JSON: summarised below
  }
  const plain = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  const excerpt = plain.length > 200 ? `${plain.slice(0, 200)}…` : plain
  const type = contentType.split(';')[0]?.trim()
  const what = [type, size > 0 ? `${size} bytes` : 'empty'].filter(Boolean).join(', ')
  return { message: `HTTP ${status} (${what})${excerpt ? `: ${excerpt}` : ''}`, code: status }
}

/** Retry-After in seconds (a number or an HTTP date), when present and sane. */
export function retryAfterOf(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000))
}

/**
 * How long to wait before sending a failed request again, or undefined to give up. An answer
 * with Retry-After (429 or 5xx) is retried after that wait, as client-go does; connection
 * failures and 429/503/504 without it only when the caller gave a retry budget.
 */
export function retryDelay(err: unknown, backoffMs: number, hasBudget: boolean): number | undefined {
  if (err instanceof KubeApiError) {
    if ((err.status === 429 || err.status >= 500) && err.retryAfterSeconds !== undefined)
      return Math.max(err.retryAfterSeconds, 1) * 1000
    if (hasBudget && [429, 503, 504].includes(err.status)) return backoffMs
    return undefined
  }
  if (err instanceof KubeConnectionError && hasBudget) return backoffMs
  return undefined
}

export function sleep(ms: number): Promise<void> {
  return new Promise(r => setTimeout(r, ms))
}
