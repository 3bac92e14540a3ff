/**
 * buildx: the command lines (pure, tested case by case), the reading of its metadata file, and
 * the choice of a builder from what `docker buildx inspect` reports.
 */
import { formatCacheSpec } from './config.js'
import { isDigest } from './reference.js'
import type { BuildRequest } from './request.js'

export interface BuildxOptions {
  builder: string
  metadataFile: string
}

export function buildxBuildArgs(req: BuildRequest, options: BuildxOptions): string[] {
  const args = ['buildx', 'build', '--builder', options.builder, '--progress', 'plain', '--file', req.file]
  if (req.platforms.length) args.push('--platform', req.platforms.join(','))
  for (const tag of req.tags) args.push('--tag', tag)
  for (const [key, value] of Object.entries(req.labels)) args.push('--label', `${key}=${value}`)
  for (const [key, value] of req.buildArgs) args.push('--build-arg', `${key}=${value}`)
  for (const secret of req.secretFiles) args.push('--secret', `id=${secret.id},src=${secret.path}`)
  for (const spec of req.cacheFrom) args.push('--cache-from', formatCacheSpec(spec))
  for (const spec of req.cacheTo) args.push('--cache-to', formatCacheSpec(spec))
  if (req.provenance) args.push(`--provenance=${req.provenance}`)
  if (req.sbom) args.push(`--sbom=${req.sbom}`)
  if (req.noCache) args.push('--no-cache')
  if (req.target) args.push('--target', req.target)
  if (req.push) args.push('--push')
  args.push('--metadata-file', options.metadataFile, req.context)
  return args
}

export interface BuildxMetadata {
  digest: string
  imageNames: string[]
  buildRef: string
}

/** Reads buildx's `--metadata-file`; the digest is `containerimage.digest`, never scraped from logs. */
export function parseBuildxMetadata(text: string): BuildxMetadata {
  let data: Record<string, unknown>
  try {
    data = JSON.parse(text) as Record<string, unknown>
  } catch (err) {
    throw new Error(`the buildx metadata file is not JSON: ${(err as Error).message}`, { cause: err })
  }
  const digest = typeof data['containerimage.digest'] === 'string' ? data['containerimage.digest'] : ''
  if (digest && !isDigest(digest))
    throw new Error(
      `the buildx metadata file has a malformed containerimage.digest ${JSON.stringify(digest)}`
    )
  const names = typeof data['image.name'] === 'string' ? data['image.name'].split(',').filter(Boolean) : []
  const buildRef = typeof data['buildx.build.ref'] === 'string' ? data['buildx.build.ref'] : ''
  return { digest, imageNames: names, buildRef }
}

export interface BuilderInfo {
  name: string
  driver: string
  /** Platforms the builder's nodes report (emulated ones included). */
  platforms: string[]
  status: string
}

/** Reads the text of `docker buildx inspect [--bootstrap] NAME`. */
export function parseBuildxInspect(text: string): BuilderInfo {
  const field = (label: string) => new RegExp(`^${label}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? ''
  const platforms = [...text.matchAll(/^Platforms:\s*(.*)$/gm)].flatMap(m =>
    m[1]!
      .split(',')
      .map(p => p.trim().replace(/\*$/, ''))
      .filter(Boolean)
  )
  return {
    name: field('Name'),
    driver: field('Driver'),
    platforms: [...new Set(platforms)],
    status: field('Status')
  }
}

export type BuilderPlan =
  | { action: 'use'; name: string }
  | {
      action: 'create'
      name: string
      driver: 'remote' | 'docker-container'
      endpoint?: string
      reason: string
    }

export const CREATED_BUILDER_NAME = 'otlp-image-build'

/**
 * Which buildx builder to use. The `docker` driver cannot build several platforms into one
 * pushed index, so a multi-platform build gets a builder of its own in that case.
 */
export function chooseBuilder(facts: {
  /** buildx-builder input, else $BUILDX_BUILDER; empty means the current builder. */
  requested: string
  /** buildkit-endpoint input, else $BUILDKIT_HOST. */
  endpoint: string
  /** What inspecting the requested (or current) builder returned; undefined when it failed. */
  existing: BuilderInfo | undefined
  platformCount: number
}): BuilderPlan {
  const create = (name: string, reason: string): BuilderPlan =>
    facts.endpoint
      ? { action: 'create', name, driver: 'remote', endpoint: facts.endpoint, reason }
      : { action: 'create', name, driver: 'docker-container', reason }
  if (!facts.existing) {
    return create(
      facts.requested || CREATED_BUILDER_NAME,
      facts.requested ? `builder ${facts.requested} does not exist` : 'no buildx builder is set up'
    )
  }
  if (facts.existing.driver === 'docker' && facts.platformCount > 1) {
    if (facts.requested) return { action: 'use', name: facts.existing.name || facts.requested }
    return create(
      CREATED_BUILDER_NAME,
      `the current builder ${facts.existing.name} uses the docker driver, which cannot push a multi-platform index`
    )
  }
  return { action: 'use', name: facts.existing.name || facts.requested }
}

export function buildxCreateArgs(plan: Extract<BuilderPlan, { action: 'create' }>): string[] {
  const args = ['buildx', 'create', '--name', plan.name, '--driver', plan.driver]
  if (plan.endpoint) args.push(plan.endpoint)
  return args
}
