// The informer against a small fake API server on loopback: it resumes a watch the server ended
// from the last resourceVersion, lists again after 410 Gone, and reconnects after a dropped
// connection, keeping an exact local copy throughout.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeClient } from '../../src/kube/client.js'
import { Informer } from '../../src/kube/informer.js'

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void

async function fakeApi(handler: Handler): Promise<{ url: string; close: () => void; seen: string[] }> {
  const seen: string[] = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    seen.push(
      `${url.searchParams.get('watch') ? 'WATCH' : 'LIST'} rv=${url.searchParams.get('resourceVersion') ?? ''}`
    )
    handler(req, res, url)
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections()
      server.close()
    },
    seen
  }
}

const pod = (name: string, rv: string) => ({
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name, resourceVersion: rv }
})
const event = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`

async function client(server: string): Promise<KubeClient> {
  const kubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: '${server}', insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: fake-token-0123456789}}]
contexts: [{name: c, context: {cluster: fake, user: u}}]
current-context: c
`
  const write = process.stdout.write
  process.stdout.write = (() => true) as never // the masking commands
  try {
    return await KubeClient.connect({ kubeconfig, env: {} })
  } finally {
    process.stdout.write = write
  }
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise(r => setTimeout(r, 20))
  }
}

it('resumes from the last resourceVersion, re-lists after 410 Gone and reconnects after a dropped connection', async () => {
  let lists = 0
  let watches = 0
  const api = await fakeApi((_req, res, url) => {
    res.setHeader('content-type', 'application/json')
    if (!url.searchParams.get('watch')) {
      lists++
      const body =
        lists === 1
          ? { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '10' }, items: [pod('a', '5')] }
          : {
              kind: 'PodList',
              apiVersion: 'v1',
              metadata: { resourceVersion: '20' },
              items: [pod('a', '5'), pod('c', '19')]
            }
      res.end(JSON.stringify(body))
      return
    }
    watches++
    if (watches === 1) {
      // A new pod, a bookmark, then the server ends the watch (its timeoutSeconds).
      res.write(event('ADDED', pod('b', '11')))
      res.end(event('BOOKMARK', { kind: 'Pod', metadata: { resourceVersion: '12' } }))
    } else if (watches === 2) {
      res.end(
        event('ERROR', {
          kind: 'Status',
          code: 410,
          reason: 'Expired',
          message: 'too old resource version: 12 (15)'
        })
      )
    } else if (watches === 3) {
      res.write(event('DELETED', pod('a', '21')))
      // The connection drops (an API server restart).
      setTimeout(() => res.socket?.destroy(), 50)
    } else {
      res.write(event('MODIFIED', pod('c', '30')))
    }
  })
  const kube = await client(api.url)
  let changes = 0
  const informer = new Informer(kube, '/api/v1/namespaces/ns/pods', {
    labelSelector: 'app=web',
    onChange: () => changes++
  })
  try {
    await informer.start()
    expect([...informer.items.keys()]).toEqual(['a'])
    expect(informer.items.get('a')?.kind).toBe('Pod')
    await until(() => watches >= 4 && informer.items.get('c')?.metadata?.resourceVersion === '30')
    expect([...informer.items.keys()].sort()).toEqual(['c'])
    expect(informer.relists).toBe(1)
    expect(informer.reconnects).toBe(1)
    expect(api.seen.slice(0, 6)).toEqual([
      'LIST rv=',
      'WATCH rv=10',
      'WATCH rv=12',
      'LIST rv=',
      'WATCH rv=20',
      'WATCH rv=21'
    ])
    expect(changes).toBeGreaterThanOrEqual(5)
    expect(kube.requests).toBe(api.seen.length)
  } finally {
    await informer.stopped()
    kube.close()
    api.close()
  }
})

it('stops on 403 and reports it instead of retrying forever', async () => {
  const api = await fakeApi((_req, res, url) => {
    res.setHeader('content-type', 'application/json')
    if (!url.searchParams.get('watch')) {
      res.end(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '1' }, items: [] }))
      return
    }
    res.statusCode = 403
    res.end(
      JSON.stringify({
        kind: 'Status',
        code: 403,
        reason: 'Forbidden',
        message: 'pods is forbidden: User "deployer" cannot watch resource "pods"'
      })
    )
  })
  const kube = await client(api.url)
  const informer = new Informer(kube, '/api/v1/namespaces/ns/pods', { onChange: () => undefined })
  try {
    await informer.start()
    await until(() => informer.fatal !== undefined)
    expect(informer.fatal?.message).toMatch(/cannot watch resource "pods"/)
  } finally {
    await informer.stopped()
    kube.close()
    api.close()
  }
})
