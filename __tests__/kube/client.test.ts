/**
 * The client's transport rules against a loopback HTTP server standing in for the API server (the
 * end-to-end tests run the same paths against the real one): Retry-After, one re-authentication
 * per 401, short errors from HTML pages, and the pause before reopening a watch that closes at once.
 */
import { jest } from '@jest/globals'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { apiStatusOf, KubeClient, retryAfterOf } from '../../src/kube/client.js'
import { Informer, WatchBackoff } from '../../src/kube/informer.js'

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void

async function standIn(
  handler: Handler
): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`)
    handler(req, res)
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    seen,
    close: () =>
      new Promise<void>(r => {
        server.closeAllConnections()
        server.close(() => r())
      })
  }
}

const kubeconfig = (server: string, user: string) => `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}"}}]
users: [{name: u, user: ${user}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]
current-context: x
`

describe('KubeClient against a loopback stand-in for the API server', () => {
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((() => true) as never)
  afterAll(() => write.mockRestore())

  it('waits as long as Retry-After says on 429, then succeeds', async () => {
    let calls = 0
    const s = await standIn((_req, res) => {
      if (++calls <= 2) {
        res.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ kind: 'Status', message: 'too many requests', code: 429 }))
      } else res.end(JSON.stringify({ kind: 'Namespace', metadata: { name: 'ns' } }))
    })
    const client = await KubeClient.connect({ kubeconfig: kubeconfig(s.url, '{token: abcdefgh-token}') })
    const started = Date.now()
    await expect(client.request('GET', '/api/v1/namespaces/ns')).resolves.toMatchObject({ kind: 'Namespace' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900)
    expect(client.requests).toBe(3)
    expect(s.seen[0]).toContain('Bearer abcdefgh-token')
    client.close()
    await s.close()
  })

  it('runs the exec plugin again once after a 401, and fails on a second 401', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugin-'))
    const plugin = join(dir, 'plugin.sh')
    writeFileSync(
      plugin,
      `#!/bin/sh\nn=$(($(cat ${dir}/n 2>/dev/null || echo 0)+1)); echo $n > ${dir}/n\nprintf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"tok-%s"}}' $n\n`
    )
    chmodSync(plugin, 0o755)
    const s = await standIn((req, res) => {
      // tok-1 is refused (revoked early); tok-2 works; tok-3+ never reached in the first request.
      if (req.headers.authorization === 'Bearer tok-1' || req.url?.includes('always-401')) {
        res.writeHead(401, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ kind: 'Status', message: 'Unauthorized', code: 401 }))
      } else res.end('{}')
    })
    const client = await KubeClient.connect({
      kubeconfig: kubeconfig(
        s.url,
        `{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ${plugin}}}`
      )
    })
    await client.request('GET', '/api/v1/namespaces/ns')
    expect(s.seen.map(l => l.split(' ').pop())).toEqual(['tok-1', 'tok-2'])
    expect(client.reauthentications).toBe(1)
    await expect(client.request('GET', '/api/v1/always-401')).rejects.toMatchObject({ status: 401 })
    expect(client.reauthentications).toBe(2)
    client.close()
    await s.close()
  })

  it('turns a 100 KB HTML error page into a short message', async () => {
    const page = `<html><head><style>body{}</style></head><body><h1>502 Bad Gateway</h1>${'<p>filler</p>'.repeat(8000)}</body></html>`
    const s = await standIn((_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html; charset=utf-8' })
      res.end(page)
    })
    const client = await KubeClient.connect({ kubeconfig: kubeconfig(s.url, '{token: abcdefgh-token}') })
    const err = (await client.request('GET', '/api/v1/namespaces/ns').catch(e => e)) as Error
    expect(page.length).toBeGreaterThan(100_000)
    expect(err.message).toMatch(/^HTTP 502 \(text\/html, \d+ bytes\): 502 Bad Gateway filler filler/)
    expect(err.message.length).toBeLessThan(300)
    client.close()
    await s.close()
  })

  it('backs off a watch that the server ends at once: under 40 requests in 30 s of simulated closes', async () => {
    const s = await standIn((req, res) => {
      if (req.url?.includes('watch=true'))
        res.end() // closed at once, no events
      else res.end(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '5' }, items: [] }))
    })
    const client = await KubeClient.connect({ kubeconfig: kubeconfig(s.url, '{token: abcdefgh-token}') })
    const informer = new Informer(client, '/api/v1/namespaces/ns/pods', { onChange: () => {} })
    await informer.start()
    await new Promise(r => setTimeout(r, 6000))
    await informer.stopped()
    const watches = s.seen.filter(l => l.includes('watch=true')).length
    // 800 ms doubling (with up to 20% jitter): 0, 0.8, 2.4, 5.6 s → at most 4 watches in 6 s.
    expect(watches).toBeGreaterThanOrEqual(3)
    expect(watches).toBeLessThanOrEqual(4)
    // The same backoff over 30 s: 0.8+1.6+3.2+6.4+12.8 = 24.8 s → 6 opens, far under 40.
    const b = new WatchBackoff(800, 30_000, () => 0)
    let t = 0
    let opens = 1
    while ((t += b.next()) < 30_000) opens++
    expect(opens).toBe(6)
    client.close()
    await s.close()
  }, 20_000)
})

describe('transport helpers', () => {
  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterOf('2')).toBe(2)
    expect(retryAfterOf(undefined)).toBeUndefined()
    expect(retryAfterOf(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThanOrEqual(4)
  })
  it('keeps a Status body as the API server wrote it', () => {
    expect(
      apiStatusOf('{"kind":"Status","message":"forbidden","reason":"Forbidden"}', 403, 'application/json', 60)
    ).toEqual({
      kind: 'Status',
      message: 'forbidden',
      reason: 'Forbidden'
    })
  })
})
