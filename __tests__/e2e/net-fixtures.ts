/**
 * Loopback network fixtures for end-to-end tests of the Kubernetes client: a forward HTTP proxy (CONNECT
 * tunnels and absolute-URI requests) and a TLS-terminating reverse proxy in front of the API server that
 * counts requests and injects faults. Node builtins only; both listen on 127.0.0.1:0 and dial only
 * loopback addresses. Upgrade requests (exec, port-forward) are not proxied.
 */
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import http, { STATUS_CODES } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, Server } from 'node:http'
import https from 'node:https'
import net from 'node:net'
import type { AddressInfo, Socket } from 'node:net'

/** The fixtures refuse other targets: a test's traffic must never leave the machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1')
  return h === 'localhost' || h === '::1' || (net.isIPv4(h) && h.startsWith('127.'))
}

// Hop-by-hop headers (RFC 9110 7.6.1) are for one connection only; a proxy drops them.
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade'
]

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ...headers }
  for (const h of HOP_BY_HOP) delete out[h]
  return out
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

/** Closes SERVER and every connection it holds, including sockets it no longer tracks (tunnels). */
async function closeAll(server: Server, detached: Set<Socket>): Promise<void> {
  const closed = once(server, 'close')
  server.close()
  server.closeAllConnections()
  for (const s of detached) s.destroy()
  await closed
}

// --- forward proxy --------------------------------------------------------------------------------

export interface ProxiedRequest {
  /** CONNECT for a tunnel, else the method of a plain (absolute-URI) request. */
  method: string
  /** host:port the client asked for. */
  target: string
  /** Path and query of a plain request (absent for CONNECT). */
  path?: string
  /** The proxy's answer: 200 for an open tunnel, 407 (no or wrong credentials), 403 (not loopback),
   *  502 (target unreachable), or the target's status for a plain request. */
  status: number
}

export interface ConnectProxy {
  /** http://127.0.0.1:PORT, for HTTPS_PROXY / a kubeconfig's proxy-url. */
  url: string
  requests: ProxiedRequest[]
  counts: { connect: number; http: number; refused: number }
  close(): Promise<void>
}

export interface ConnectProxyOptions {
  /** Require Proxy-Authorization: Basic with these credentials (407 otherwise). */
  auth?: { username: string; password: string }
  /**
   * Names only this proxy resolves, each to a loopback address: a client never proxies a loopback
   * address itself (Go's rule, which the action follows), so a test names the target this way.
   */
  hosts?: Record<string, string>
}

function splitHostPort(target: string, defaultPort: number): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(target)
  return { host: (m?.[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port: Number(m?.[2] ?? defaultPort) }
}

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const requests: ProxiedRequest[] = []
  const counts = { connect: 0, http: 0, refused: 0 }
  const tunnels = new Set<Socket>()
  const expected = options.auth
    ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
    : undefined
  const hosts = options.hosts ?? {}
  for (const [name, address] of Object.entries(hosts))
    if (!isLoopbackHost(address))
      throw new Error(`startConnectProxy: ${name} must map to loopback, not ${address}`)
  const resolve = (host: string): string => hosts[host] ?? host
  const record = (entry: ProxiedRequest): void => {
    requests.push(entry)
    if (entry.status === 403 || entry.status === 407) counts.refused++
  }
  // null when the request may go on, else the refusal's status line and headers.
  const refusal = (
    req: IncomingMessage,
    host: string
  ): { status: number; headers: Record<string, string> } | null => {
    if (expected && req.headers['proxy-authorization'] !== expected)
      return { status: 407, headers: { 'proxy-authenticate': 'Basic realm="testbed"' } }
    return isLoopbackHost(resolve(host)) ? null : { status: 403, headers: {} }
  }

  const server = http.createServer((req, res) => {
    counts.http++
    const method = req.method ?? 'GET'
    let url: URL
    try {
      url = new URL(req.url ?? '')
    } catch {
      record({ method, target: '', path: req.url, status: 400 })
      res.writeHead(400).end('a proxy request needs an absolute http:// URI')
      return
    }
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1')
    const port = Number(url.port || 80)
    const target = `${url.hostname}:${port}`
    const path = `${url.pathname}${url.search}`
    const refused = url.protocol === 'http:' ? refusal(req, hostname) : { status: 400, headers: {} }
    if (refused) {
      record({ method, target, path, status: refused.status })
      res.writeHead(refused.status, refused.headers).end()
      return
    }
    const upstream = http.request(
      { host: resolve(hostname), port, method, path, headers: endToEnd(req.headers), agent: false },
      up => {
        record({ method, target, path, status: up.statusCode ?? 502 })
        res.writeHead(up.statusCode ?? 502, endToEnd(up.headers))
        up.pipe(res)
      }
    )
    upstream.on('error', err => {
      if (res.headersSent) return void res.destroy()
      record({ method, target, path, status: 502 })
      res.writeHead(502).end(String(err))
    })
    req.pipe(upstream)
  })

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    counts.connect++
    tunnels.add(client)
    client.on('close', () => tunnels.delete(client))
    client.on('error', () => client.destroy())
    const target = req.url ?? ''
    const { host, port } = splitHostPort(target, 443)
    const refused = refusal(req, host)
    if (refused) {
      record({ method: 'CONNECT', target, status: refused.status })
      const extra = Object.entries(refused.headers).map(([k, v]) => `${k}: ${v}\r\n`)
      client.end(
        `HTTP/1.1 ${refused.status} ${STATUS_CODES[refused.status]}\r\n${extra.join('')}content-length: 0\r\n\r\n`
      )
      return
    }
    let established = false
    const upstream = net.connect(port, resolve(host), () => {
      established = true
      record({ method: 'CONNECT', target, status: 200 })
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    tunnels.add(upstream)
    upstream.on('close', () => {
      tunnels.delete(upstream)
      client.destroy()
    })
    client.on('close', () => upstream.destroy())
    upstream.on('error', () => {
      if (established) return
      record({ method: 'CONNECT', target, status: 502 })
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n')
    })
  })

  const port = await listen(server)
  return { url: `http://127.0.0.1:${port}`, requests, counts, close: () => closeAll(server, tunnels) }
}

// --- fault-injecting reverse proxy ----------------------------------------------------------------

/** A watch is a request with watch=true or watch=1 in its query; everything else is "other". */
export type RequestKind = 'watch' | 'other'

export interface RequestMatch {
  kind?: RequestKind
  method?: string
  /** A string matches the path exactly (query excluded); a RegExp is tested against it. */
  path?: string | RegExp
}

export type Fault =
  /** 200 with the headers of a watch and no events, then the end of the stream. */
  | { type: 'end-watch' }
  /** 429 with Retry-After and the Status body the API server sends. */
  | { type: 'throttle'; retryAfterSeconds: number }
  /** Any status and body, e.g. 502 and a large HTML page from a gateway. */
  | {
      type: 'respond'
      status: number
      body?: string | Buffer
      contentType?: string
      headers?: Record<string, string>
    }

export interface FaultRule {
  match?: RequestMatch
  fault: Fault
  /** Only the first N matching requests get the fault, the rest pass through; default: all of them. */
  times?: number
}

export interface FaultLogEntry {
  method: string
  /** Path and query as the client sent them. */
  path: string
  kind: RequestKind
  status: number
  /** The fault injected, if any (the request then never reached the upstream). */
  fault?: Fault['type']
}

export interface FaultProxy {
  /** https://127.0.0.1:PORT: put it in a kubeconfig as the server (same CA as the API server). */
  url: string
  counts: { watch: number; other: number; faulted: number }
  log: FaultLogEntry[]
  /** Read on every request: a test may change them while the proxy runs. First matching rule wins. */
  rules: FaultRule[]
  close(): Promise<void>
}

export interface FaultProxyOptions {
  /** The proxy's serving certificate and key, from the test bed CA and valid for 127.0.0.1
   *  (e.g. .testbed/pki/kube-apiserver.crt and .key). */
  certFile: string
  keyFile: string
  /** The CA the upstream's certificate is checked against ($TESTBED_CA_FILE). */
  caFile: string
  /** A client certificate for the upstream (e.g. .testbed/pki/deployer.crt); the clients' own
   *  certificates end at this proxy, their headers (Authorization) are forwarded. */
  clientCertFile?: string
  clientKeyFile?: string
  rules?: FaultRule[]
}

/** An HTML error page of about BYTES bytes, like those gateways and load balancers send. */
export function htmlErrorPage(status: number, bytes = 100 * 1024): string {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`
  const head = `<!DOCTYPE html>\n<html><head><title>${title}</title></head>\n<body><center><h1>${title}</h1></center><hr><center>testbed-gateway</center>\n<!-- `
  const tail = ' -->\n</body></html>\n'
  return `${head}${'x'.repeat(Math.max(0, bytes - head.length - tail.length))}${tail}`
}

function matches(m: RequestMatch | undefined, method: string, path: string, kind: RequestKind): boolean {
  if (!m) return true
  if (m.kind && m.kind !== kind) return false
  if (m.method && m.method.toUpperCase() !== method) return false
  if (typeof m.path === 'string' && m.path !== path) return false
  return !(m.path instanceof RegExp && !m.path.test(path))
}

export async function startFaultProxy(upstream: URL, options: FaultProxyOptions): Promise<FaultProxy> {
  if (upstream.protocol !== 'https:' || !isLoopbackHost(upstream.hostname))
    throw new Error(`startFaultProxy: the upstream must be https on loopback, not ${upstream.href}`)
  const rules = [...(options.rules ?? [])]
  const used = new Map<FaultRule, number>()
  const counts = { watch: 0, other: 0, faulted: 0 }
  const log: FaultLogEntry[] = []
  const agent = new https.Agent({
    keepAlive: true,
    ca: readFileSync(options.caFile),
    cert: options.clientCertFile ? readFileSync(options.clientCertFile) : undefined,
    key: options.clientKeyFile ? readFileSync(options.clientKeyFile) : undefined
  })

  const server = https.createServer(
    { cert: readFileSync(options.certFile), key: readFileSync(options.keyFile) },
    (req, res) => {
      const method = req.method ?? 'GET'
      const url = new URL(req.url ?? '/', 'https://proxy.invalid')
      const kind: RequestKind = ['true', '1'].includes(url.searchParams.get('watch') ?? '')
        ? 'watch'
        : 'other'
      counts[kind]++
      const entry: FaultLogEntry = { method, path: req.url ?? '/', kind, status: 0 }
      log.push(entry)
      const rule = rules.find(
        r =>
          matches(r.match, method, url.pathname, kind) &&
          (r.times === undefined || (used.get(r) ?? 0) < r.times)
      )
      if (rule) {
        used.set(rule, (used.get(rule) ?? 0) + 1)
        counts.faulted++
        entry.fault = rule.fault.type
        req.resume()
        const f = rule.fault
        if (f.type === 'end-watch') {
          entry.status = 200
          res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }).end()
        } else if (f.type === 'throttle') {
          entry.status = 429
          const status = {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: 'Too many requests, please try again later.',
            reason: 'TooManyRequests',
            details: { retryAfterSeconds: f.retryAfterSeconds },
            code: 429
          }
          res
            .writeHead(429, {
              'content-type': 'application/json',
              'retry-after': String(f.retryAfterSeconds)
            })
            .end(JSON.stringify(status))
        } else {
          entry.status = f.status
          res
            .writeHead(f.status, { 'content-type': f.contentType ?? 'text/html', ...f.headers })
            .end(f.body ?? '')
        }
        return
      }
      const forward = https.request(
        {
          host: upstream.hostname,
          port: upstream.port || 443,
          method,
          path: req.url,
          headers: { ...endToEnd(req.headers), host: upstream.host },
          agent
        },
        up => {
          entry.status = up.statusCode ?? 502
          res.writeHead(entry.status, endToEnd(up.headers))
          up.pipe(res)
        }
      )
      forward.on('error', err => {
        if (res.headersSent) return void res.destroy()
        entry.status = 502
        res
          .writeHead(502, { 'content-type': 'text/plain' })
          .end(`fault proxy: upstream failed: ${err.message}`)
      })
      // A client that goes away (a watch it stopped) ends the upstream request too.
      res.on('close', () => {
        if (!res.writableFinished) forward.destroy()
      })
      req.pipe(forward)
    }
  )
  const port = await listen(server)
  return {
    url: `https://127.0.0.1:${port}`,
    counts,
    log,
    rules,
    close: async () => {
      await closeAll(server, new Set())
      agent.destroy()
    }
  }
}

export interface ThrottleProxy {
  /** host:port to use in place of the upstream's. */
  address: string
  /** Bytes sent downstream so far. */
  sent: () => number
  close: () => Promise<void>
}

/**
 * A TCP proxy on loopback that forwards to `upstream` (host:port on loopback) and sends what comes
 * back at most `bytesPerSecond`: a slow registry link, so that an image pull takes minutes.
 */
export async function startThrottleProxy(upstream: string, bytesPerSecond: number): Promise<ThrottleProxy> {
  const [host, port] = [
    upstream.slice(0, upstream.lastIndexOf(':')),
    Number(upstream.slice(upstream.lastIndexOf(':') + 1))
  ]
  if (!isLoopbackHost(host)) throw new Error(`startThrottleProxy: ${upstream} is not on loopback`)
  let sent = 0
  const sockets = new Set<Socket>()
  const server = net.createServer(client => {
    const up = net.connect(port, host)
    sockets.add(client).add(up)
    client.pipe(up)
    let writing = false
    let ended = false
    up.on('data', (chunk: Buffer) => {
      // Slices of a tenth of a second each, so the rate holds within any window of a few seconds.
      up.pause()
      writing = true
      const slice = Math.max(1, Math.floor(bytesPerSecond / 10))
      let offset = 0
      const next = () => {
        if (offset >= chunk.length || client.destroyed) {
          writing = false
          if (ended) client.end()
          else up.resume()
          return
        }
        const part = chunk.subarray(offset, offset + slice)
        offset += part.length
        sent += part.length
        client.write(part)
        setTimeout(next, (part.length / bytesPerSecond) * 1000)
      }
      next()
    })
    const end = () => {
      client.destroy()
      up.destroy()
      sockets.delete(client)
      sockets.delete(up)
    }
    up.on('end', () => {
      ended = true
      if (!writing) client.end()
    })
    up.on('error', end)
    client.on('error', end)
    client.on('close', end)
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent: () => sent,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(r => server.close(() => r()))
    }
  }
}
