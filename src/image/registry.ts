/**
 * A small OCI distribution client: reads manifests (what the registry serves, with its
 * Docker-Content-Digest) and per-platform sizes. Basic and bearer-token authentication.
 * Loopback registries are spoken to over plain HTTP, every other one over HTTPS.
 */
import { createHash } from 'node:crypto'
import { proxiedFetch } from '../runtime/index.js'

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
]

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number
  ) {
    super(message)
    this.name = 'RegistryError'
  }
}

export interface Credentials {
  username: string
  password: string
}

export interface Manifest {
  digest: string
  /** The digest computed over the bytes served; equals `digest` unless the registry misbehaves. */
  computedDigest: string
  mediaType: string
  body: ManifestBody
  size: number
}

interface Descriptor {
  mediaType?: string
  digest: string
  size: number
  platform?: { os?: string; architecture?: string; variant?: string }
  annotations?: Record<string, string>
}

export interface ManifestBody {
  mediaType?: string
  manifests?: Descriptor[]
  config?: Descriptor
  layers?: Descriptor[]
}

export interface PlatformSize {
  platform: string
  digest: string
  /** Compressed bytes the platform pulls: config plus layers. */
  bytes: number
  layers: number
}

export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  return name === 'localhost' || name === '::1' || /^127\./.test(name)
}

export class RegistryClient {
  private token: string | undefined
  readonly base: string

  constructor(
    readonly host: string,
    private readonly credentials?: Credentials,
    private readonly timeoutMs = 30_000
  ) {
    this.base = `${isLoopback(host) ? 'http' : 'https'}://${host}`
  }

  private basic(): string | undefined {
    if (!this.credentials) return undefined
    return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await proxiedFetch(url, {
        ...init,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'follow'
      })
    } catch (err) {
      throw new RegistryError(`cannot reach ${this.host}: ${(err as Error).message}`)
    }
  }

  /** One request, answering a 401 challenge once (Basic, or a Bearer token for `scope`). */
  async request(path: string, headers: Record<string, string>, method = 'GET'): Promise<Response> {
    const url = `${this.base}${path}`
    const auth = this.token ? `Bearer ${this.token}` : undefined
    let res = await this.fetch(url, { method, headers: auth ? { ...headers, Authorization: auth } : headers })
    if (res.status !== 401) return res
    const challenge = res.headers.get('www-authenticate') ?? ''
    await res.body?.cancel()
    if (/^basic/i.test(challenge)) {
      const basic = this.basic()
      if (!basic) throw new RegistryError(`${this.host} requires credentials (401) and none were given`, 401)
      res = await this.fetch(url, { method, headers: { ...headers, Authorization: basic } })
    } else if (/^bearer/i.test(challenge)) {
      this.token = await this.bearerToken(challenge)
      res = await this.fetch(url, { method, headers: { ...headers, Authorization: `Bearer ${this.token}` } })
    }
    if (res.status === 401) throw new RegistryError(`${this.host} rejected the credentials (401)`, 401)
    return res
  }

  private async bearerToken(challenge: string): Promise<string> {
    const params: Record<string, string> = {}
    for (const m of challenge.matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!] = m[2]!
    if (!params.realm) throw new RegistryError(`${this.host} sent a bearer challenge without a realm`)
    const url = new URL(params.realm)
    if (params.service) url.searchParams.set('service', params.service)
    if (params.scope) url.searchParams.set('scope', params.scope)
    const basic = this.basic()
    const res = await this.fetch(url.toString(), { headers: basic ? { Authorization: basic } : {} })
    if (!res.ok)
      throw new RegistryError(`the token service of ${this.host} answered ${res.status}`, res.status)
    const data = (await res.json()) as { token?: string; access_token?: string }
    const token = data.token ?? data.access_token
    if (!token) throw new RegistryError(`the token service of ${this.host} returned no token`)
    return token
  }

  async manifest(repository: string, reference: string): Promise<Manifest> {
    const res = await this.request(`/v2/${repository}/manifests/${reference}`, {
      Accept: MANIFEST_TYPES.join(', ')
    })
    if (!res.ok) {
      await res.body?.cancel()
      throw new RegistryError(
        `${this.host}/${repository}@${reference}: the registry answered ${res.status}`,
        res.status
      )
    }
    const bytes = Buffer.from(await res.arrayBuffer())
    const computedDigest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    const body = JSON.parse(bytes.toString('utf8')) as ManifestBody
    return {
      digest: res.headers.get('docker-content-digest') ?? computedDigest,
      computedDigest,
      mediaType: (res.headers.get('content-type') ?? body.mediaType ?? '').split(';')[0]!.trim(),
      body,
      size: bytes.length
    }
  }
}

function platformName(p: Descriptor['platform']): string {
  return [p?.os ?? 'unknown', p?.architecture ?? 'unknown', p?.variant].filter(Boolean).join('/')
}

/** Sizes of each platform image of an index (attestation manifests left out), or of one manifest. */
export function platformSizes(
  top: Manifest,
  children: ReadonlyMap<string, ManifestBody>,
  singlePlatform = 'image'
): PlatformSize[] {
  const size = (body: ManifestBody) =>
    (body.config?.size ?? 0) + (body.layers ?? []).reduce((n, l) => n + l.size, 0)
  if (!top.body.manifests) {
    return [
      {
        platform: singlePlatform,
        digest: top.digest,
        bytes: size(top.body),
        layers: top.body.layers?.length ?? 0
      }
    ]
  }
  return top.body.manifests
    .filter(
      d =>
        d.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' &&
        platformName(d.platform) !== 'unknown/unknown'
    )
    .map(d => {
      const body = children.get(d.digest)
      return {
        platform: platformName(d.platform),
        digest: d.digest,
        bytes: body ? size(body) : 0,
        layers: body?.layers?.length ?? 0
      }
    })
}

/** Fetches an index or manifest by digest and the platform manifests it lists. */
export async function inspectPushed(
  client: RegistryClient,
  repository: string,
  digest: string,
  singlePlatform?: string
): Promise<{ top: Manifest; sizes: PlatformSize[] }> {
  const top = await client.manifest(repository, digest)
  const children = new Map<string, ManifestBody>()
  for (const d of top.body.manifests ?? []) {
    if (d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue
    children.set(d.digest, (await client.manifest(repository, d.digest)).body)
  }
  return { top, sizes: platformSizes(top, children, singlePlatform) }
}
