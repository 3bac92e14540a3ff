/**
 * The image build's typed configuration, read from the action inputs in one place so that the
 * image-build action and the one-step deploy action accept the same inputs with the same rules.
 */
import { type Inputs, maskSecret, splitList } from '../runtime/index.js'
import {
  type Flavor,
  type ImageRule,
  RuleError,
  type TagRule,
  parseFlavor,
  parseImageRules,
  parseTagRules
} from './metadata/rules.js'
import { type Platform, formatPlatform, parseImageName, parsePlatform } from './reference.js'

export const BUILDERS = ['auto', 'buildx', 'buildah'] as const
export type BuilderChoice = (typeof BUILDERS)[number]

export const CACHE_TYPES = ['gha', 'registry', 'local', 'inline'] as const
export type CacheType = (typeof CACHE_TYPES)[number]

export interface CacheSpec {
  type: CacheType
  attrs: Record<string, string>
}

export interface ImageBuildConfig {
  context: string
  file: string
  images: ImageRule[]
  tagRules: TagRule[]
  flavor: Flavor
  labels: Map<string, string>
  /** Empty: the host's platform. */
  platforms: Platform[]
  push: boolean
  builder: BuilderChoice
  buildxBuilder: string
  /** Keep a buildx builder this step created instead of removing it in the post step. */
  keepBuilder: boolean
  buildkitEndpoint: string
  buildArgs: Map<string, string>
  /** BuildKit secrets by id; written to private files, never passed as arguments. */
  secrets: Map<string, string>
  cacheFrom: CacheSpec[]
  cacheTo: CacheSpec[]
  provenance: string
  sbom: string
  noCache: boolean
  target: string
  registry: string
  username: string
  password: string
  timeoutMs: number
}

/** Parses `type=registry,ref=x,mode=max` (or a bare reference, meaning a registry cache). */
export function parseCacheSpec(text: string): CacheSpec | string {
  const attrs: Record<string, string> = {}
  if (!text.includes('=')) {
    if (!parseImageName(text.replace(/:[\w][\w.-]*$/, '')))
      return `${JSON.stringify(text)} is neither type=...,key=value attributes nor an image reference`
    return { type: 'registry', attrs: { ref: text } }
  }
  for (const part of text.split(',')) {
    const eq = part.indexOf('=')
    if (eq <= 0) return `${JSON.stringify(part)} in ${JSON.stringify(text)} is not key=value`
    attrs[part.slice(0, eq).trim()] = part.slice(eq + 1).trim()
  }
  const type = attrs.type ?? ''
  delete attrs.type
  if (!(CACHE_TYPES as readonly string[]).includes(type)) {
    return `${JSON.stringify(text)}: type=${type || '(missing)'} is not one of ${CACHE_TYPES.join(', ')}`
  }
  if (type === 'registry' && !attrs.ref) return `${JSON.stringify(text)}: type=registry needs ref=<image>`
  return { type: type as CacheType, attrs }
}

export function formatCacheSpec(spec: CacheSpec): string {
  return [`type=${spec.type}`, ...Object.entries(spec.attrs).map(([k, v]) => `${k}=${v}`)].join(',')
}

const ATTESTATION = /^(?:true|false|mode=(?:min|max)(?:,[\w.-]+=[^,]*)*|[\w.-]+=[^,]*(?:,[\w.-]+=[^,]*)*)$/

export function readImageBuildConfig(inputs: Inputs): ImageBuildConfig {
  const context = inputs.string('context') || '.'
  const fileInput = inputs.string('file')
  const file = fileInput || `${context.replace(/\/+$/, '')}/Dockerfile`

  const rule = <T>(name: string, fallback: T, parse: () => T): T => {
    try {
      return parse()
    } catch (err) {
      if (err instanceof RuleError) {
        inputs.problem(name, err.message)
        return fallback
      }
      throw err
    }
  }
  const imageLines = inputs.list('images', { required: true, commas: false })
  const images = rule('images', [] as ImageRule[], () => parseImageRules(imageLines))
  for (const image of images) {
    if (!parseImageName(image.name)) {
      inputs.problem(
        'images',
        `${JSON.stringify(image.name)} is not an image name; use registry/path such as ghcr.io/org/app`
      )
    }
  }
  const tagLines = inputs.list('tags')
  const tagRules = rule('tags', [] as TagRule[], () => parseTagRules(tagLines))
  const flavorLines = inputs.list('flavor')
  const flavor = rule('flavor', parseFlavor([]), () => parseFlavor(flavorLines))
  const labels = inputs.map('labels')

  const platforms: Platform[] = []
  for (const text of inputs.list('platforms', { commas: true })) {
    const parsed = parsePlatform(text)
    if (typeof parsed === 'string') inputs.problem('platforms', parsed)
    else if (!platforms.some(p => formatPlatform(p) === formatPlatform(parsed))) platforms.push(parsed)
  }

  const push = inputs.boolean('push')
  const builder = inputs.enum('builder', BUILDERS) ?? 'auto'
  const buildxBuilder = inputs.string('buildx-builder')
  const keepBuilder = inputs.boolean('keep-builder')
  const buildkitEndpoint = inputs.string('buildkit-endpoint')
  const buildArgs = inputs.map('build-args')

  const secrets = new Map<string, string>()
  for (const item of splitList(inputs.secret('secrets'), false)) {
    const eq = item.indexOf('=')
    const id = eq > 0 ? item.slice(0, eq).trim() : ''
    // The value is never quoted back: only the id is safe to show.
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) {
      inputs.problem(
        'secrets',
        `an entry is not id=value with an id of letters, digits, '.', '_' or '-'${id ? ` (id ${JSON.stringify(id)})` : ''}`
      )
      continue
    }
    const value = item.slice(eq + 1)
    maskSecret(value)
    if (secrets.has(id)) inputs.problem('secrets', `id ${JSON.stringify(id)} is given twice`)
    secrets.set(id, value)
  }

  const caches = (name: string): CacheSpec[] =>
    inputs.list(name).flatMap(text => {
      const spec = parseCacheSpec(text)
      if (typeof spec === 'string') {
        inputs.problem(name, spec)
        return []
      }
      return [spec]
    })
  const cacheFrom = caches('cache-from')
  const cacheTo = caches('cache-to')

  const provenance = inputs.string('provenance')
  if (provenance && !ATTESTATION.test(provenance))
    inputs.problem(
      'provenance',
      `${JSON.stringify(provenance)} is not true, false or mode=min|max[,key=value]`
    )
  const sbom = inputs.string('sbom')
  if (sbom && !ATTESTATION.test(sbom))
    inputs.problem('sbom', `${JSON.stringify(sbom)} is not true, false or key=value attributes`)
  const noCache = inputs.boolean('no-cache')
  const target = inputs.string('target')
  if (target && !/^[A-Za-z0-9][\w.-]*$/.test(target))
    inputs.problem('target', `${JSON.stringify(target)} is not a build stage name`)

  const registry = inputs.string('registry')
  const username = inputs.string('username')
  const password = inputs.secret('password')
  if (password && !username) inputs.problem('username', 'is required when a password is given')
  if (username && !password)
    inputs.problem('password', `is required when a username is given (user ${JSON.stringify(username)})`)
  const timeoutMs = inputs.duration('timeout', { min: 1000 }) ?? 30 * 60_000

  if (builder === 'buildah') {
    for (const [name, list] of [['cache-from', cacheFrom] as const, ['cache-to', cacheTo] as const]) {
      for (const spec of list) {
        if (spec.type !== 'registry')
          inputs.problem(
            name,
            `buildah can only use registry caches, not type=${spec.type}; use builder: buildx`
          )
      }
    }
    if (provenance && provenance !== 'false')
      inputs.problem(
        'provenance',
        'buildah does not produce provenance attestations; use builder: buildx or provenance: false'
      )
    if (sbom && sbom !== 'false')
      inputs.problem('sbom', 'buildah does not produce SBOM attestations; use builder: buildx or sbom: false')
  }

  return {
    context,
    file,
    images,
    tagRules,
    flavor,
    labels,
    platforms,
    push,
    builder,
    buildxBuilder,
    keepBuilder,
    buildkitEndpoint,
    buildArgs,
    secrets,
    cacheFrom,
    cacheTo,
    provenance,
    sbom,
    noCache,
    target,
    registry,
    username,
    password,
    timeoutMs
  }
}
