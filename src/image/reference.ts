/**
 * Image references: names (`registry/path`), tags, digests and platforms, with the distribution
 * spec's grammar, so a bad name is rejected before a build rather than after it.
 */

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*|\\[[0-9a-fA-F:]+\\])(?::\\d+)?`
const NAME = new RegExp(`^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)$`)
const TAG = /^[\w][\w.-]{0,127}$/

export interface ImageName {
  /** As the user wrote it, lower-cased: `127.0.0.1:5000/team/app`, `team/app`. */
  name: string
  /** Registry host as used by the registry API: `registry-1.docker.io` for Docker Hub. */
  registry: string
  /** Repository path in that registry: `library/busybox` for Docker Hub's short names. */
  repository: string
}

/** Parses and lower-cases an image name (no tag, no digest); undefined when it is not one. */
export function parseImageName(text: string): ImageName | undefined {
  const lower = text.trim().toLowerCase()
  const m = NAME.exec(lower)
  if (!m) return undefined
  let domain = m[1]
  let path = m[2]!
  // `team/app` has no registry part: the first component is a domain only if it looks like one.
  if (domain !== undefined && !/[.:]/.test(domain) && domain !== 'localhost' && !domain.startsWith('[')) {
    path = `${domain}/${path}`
    domain = undefined
  }
  if (domain === undefined || domain === 'docker.io' || domain === 'index.docker.io') {
    return {
      name: lower,
      registry: 'registry-1.docker.io',
      repository: path.includes('/') ? path : `library/${path}`
    }
  }
  return { name: lower, registry: domain, repository: path }
}

/** The host part of a registry login (`ghcr.io`, `127.0.0.1:5000`), Docker Hub as `docker.io`. */
export function registryHost(image: ImageName): string {
  return image.registry === 'registry-1.docker.io' ? 'docker.io' : image.registry
}

/** Normalises a registry given to `registry:` for comparison with an image's registry. */
export function normaliseRegistry(text: string): string {
  const host = text
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase()
  return host === '' || host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io'
    ? 'docker.io'
    : host
}

/** Replaces what a tag may not contain by `-` and trims what it may not start with or exceed. */
export function sanitizeTag(text: string): string {
  return text
    .replace(/[^a-zA-Z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128)
}

export function isValidTag(text: string): boolean {
  return TAG.test(text)
}

export function isDigest(text: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(text)
}

export interface Platform {
  os: string
  architecture: string
  variant?: string
}

export const KNOWN_OS = ['linux', 'windows', 'freebsd'] as const
export const KNOWN_ARCHITECTURES = [
  'amd64',
  'arm64',
  'arm',
  '386',
  'ppc64le',
  's390x',
  'riscv64',
  'mips64le',
  'loong64'
] as const

/** Parses `linux/arm64`, `linux/arm/v7`; an error message when it is not a known platform. */
export function parsePlatform(text: string): Platform | string {
  const parts = text.trim().toLowerCase().split('/')
  const [os, architecture, variant] = parts
  if (parts.length < 2 || parts.length > 3 || !os || !architecture) {
    return `${JSON.stringify(text)} is not a platform; use os/architecture[/variant] such as linux/arm64`
  }
  if (!(KNOWN_OS as readonly string[]).includes(os)) {
    return `${JSON.stringify(text)} names an unknown operating system ${JSON.stringify(os)}; use one of ${KNOWN_OS.join(', ')}`
  }
  if (!(KNOWN_ARCHITECTURES as readonly string[]).includes(architecture)) {
    return `${JSON.stringify(text)} names an unknown architecture ${JSON.stringify(architecture)}; use one of ${KNOWN_ARCHITECTURES.join(', ')}`
  }
  if (variant !== undefined && !/^v\d+$/.test(variant)) {
    return `${JSON.stringify(text)} has an unknown variant ${JSON.stringify(variant)}; use v6, v7 or v8`
  }
  return variant ? { os, architecture, variant } : { os, architecture }
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/')
}

/** The platform of the machine running the action (`process.arch` in OCI terms). */
export function hostPlatform(arch: string = process.arch): Platform {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
    loong64: 'loong64'
  }
  return { os: 'linux', architecture: map[arch] ?? arch }
}
