/**
 * The registry client against a small distribution-API server on loopback (real HTTP, real
 * challenges): bearer tokens, basic auth, digests, and sizes of the pushed index.
 */
import { createHash } from 'node:crypto'
import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { RegistryClient, RegistryError, inspectPushed, isLoopback } from '../../src/image/registry.js'

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`
const index = readFileSync(join(import.meta.dirname, 'fixtures', 'buildx-index.json'), 'utf8')
const manifest = (layerSizes: number[]) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha('c'), size: 1000 },
    layers: layerSizes.map((size, i) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: sha(`l${i}`),
      size
    }))
  })
const blobs = new Map<string, string>([
  [sha(index), index],
  ['sha256:b84d326b263ad7c42723ad28e8fab4f5df65bf8467969160c71ceaefc350ec0b', manifest([1_000_000, 24_000])],
  ['sha256:de438c1b39bdf4bd94617bbcc5c6289bfcb334bc960f435eb3b707801ca92d97', manifest([900_000, 23_000])]
])

function start(mode: 'bearer' | 'basic'): Promise<{ server: Server; host: string; requests: string[] }> {
  const requests: string[] = []
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization?.split(' ')[0] ?? '-'}`)
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
    if (req.url?.startsWith('/token')) {
      const ok = req.headers.authorization === `Basic ${Buffer.from('ci:right').toString('base64')}`
      res
        .writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
        .end(ok ? '{"token":"t0k3n"}' : '{}')
      return
    }
    const authorised =
      mode === 'bearer'
        ? req.headers.authorization === 'Bearer t0k3n'
        : req.headers.authorization === `Basic ${Buffer.from('ci:right').toString('base64')}`
    if (!authorised) {
      const challenge =
        mode === 'bearer'
          ? `Bearer realm="http://${host}/token",service="test",scope="repository:otlp/relay:pull"`
          : 'Basic realm="test"'
      res.writeHead(401, { 'www-authenticate': challenge }).end()
      return
    }
    const m = /^\/v2\/otlp\/relay\/manifests\/(.+)$/.exec(req.url ?? '')
    const body = m ? (blobs.get(m[1]!) ?? (m[1] === 'v1' ? index : undefined)) : undefined
    if (!body) {
      res.writeHead(404).end()
      return
    }
    res
      .writeHead(200, { 'content-type': JSON.parse(body).mediaType, 'docker-content-digest': sha(body) })
      .end(body)
  })
  return new Promise(resolve =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, host: `127.0.0.1:${(server.address() as AddressInfo).port}`, requests })
    )
  )
}

describe('registry client', () => {
  it('speaks plain HTTP only to loopback registries', () => {
    expect(isLoopback('127.0.0.1:5000')).toBe(true)
    expect(isLoopback('localhost:5000')).toBe(true)
    expect(isLoopback('[::1]:5000')).toBe(true)
    expect(new RegistryClient('ghcr.io').base).toBe('https://ghcr.io')
  })

  it('follows a bearer challenge and reads an index by tag with its Docker-Content-Digest', async () => {
    const { server, host, requests } = await start('bearer')
    try {
      const client = new RegistryClient(host, { username: 'ci', password: 'right' })
      const m = await client.manifest('otlp/relay', 'v1')
      expect(m.digest).toBe(sha(index))
      expect(m.computedDigest).toBe(m.digest)
      expect(m.mediaType).toBe('application/vnd.oci.image.index.v1+json')
      // the token is reused: one challenge only
      await client.manifest('otlp/relay', 'v1')
      expect(requests.filter(r => r.endsWith(' -'))).toHaveLength(1)
    } finally {
      server.close()
    }
  })

  it('sizes each platform of a pushed index, leaving attestations out', async () => {
    const { server, host } = await start('basic')
    try {
      const { top, sizes } = await inspectPushed(
        new RegistryClient(host, { username: 'ci', password: 'right' }),
        'otlp/relay',
        sha(index)
      )
      expect(top.digest).toBe(sha(index))
      expect(sizes).toEqual([
        {
          platform: 'linux/amd64',
          digest: 'sha256:b84d326b263ad7c42723ad28e8fab4f5df65bf8467969160c71ceaefc350ec0b',
          bytes: 1_025_000,
          layers: 2
        },
        {
          platform: 'linux/arm64',
          digest: 'sha256:de438c1b39bdf4bd94617bbcc5c6289bfcb334bc960f435eb3b707801ca92d97',
          bytes: 924_000,
          layers: 2
        }
      ])
    } finally {
      server.close()
    }
  })

  it('says the credentials were rejected', async () => {
    const { server, host } = await start('bearer')
    try {
      const err = await new RegistryClient(host, { username: 'ci', password: 'wrong' })
        .manifest('otlp/relay', 'v1')
        .catch(e => e as RegistryError)
      expect(err).toBeInstanceOf(RegistryError)
      expect((err as RegistryError).message).toBe(`the token service of ${host} answered 401`)
    } finally {
      server.close()
    }
  })

  it('names what is missing', async () => {
    const { server, host } = await start('basic')
    try {
      await expect(
        new RegistryClient(host, { username: 'ci', password: 'right' }).manifest('otlp/relay', 'v9')
      ).rejects.toThrow(`${host}/otlp/relay@v9: the registry answered 404`)
    } finally {
      server.close()
    }
  })
})
