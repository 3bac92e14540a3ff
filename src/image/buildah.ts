/** buildah: the command lines (pure), one manifest list for all platforms, pushed per tag. */
import type { BuildRequest } from './request.js'

export interface BuildahOptions {
  /** Local name of the manifest list the platform images are added to. */
  manifest: string
  authFile: string
}

export function buildahBuildArgs(req: BuildRequest, options: BuildahOptions): string[] {
  const args = ['build', '--manifest', options.manifest, '--authfile', options.authFile, '--file', req.file]
  // --layers keeps every step's layer: the cache an unchanged rebuild relies on.
  args.push('--layers')
  if (req.platforms.length) args.push('--platform', req.platforms.join(','))
  for (const [key, value] of Object.entries(req.labels)) args.push('--label', `${key}=${value}`)
  for (const [key, value] of req.buildArgs) args.push('--build-arg', `${key}=${value}`)
  for (const secret of req.secretFiles) args.push('--secret', `id=${secret.id},src=${secret.path}`)
  for (const spec of req.cacheFrom) args.push('--cache-from', cacheRepository(spec.attrs.ref ?? ''))
  for (const spec of req.cacheTo) args.push('--cache-to', cacheRepository(spec.attrs.ref ?? ''))
  if (req.noCache) args.push('--no-cache')
  if (req.target) args.push('--target', req.target)
  args.push(req.context)
  return args
}

/** buildah caches name a repository, not a tag. */
function cacheRepository(ref: string): string {
  return ref.replace(/(\/[^/:]+):[\w][\w.-]*$/, '$1')
}

export function buildahPushArgs(
  manifest: string,
  destination: string,
  options: { authFile: string; digestFile: string }
): string[] {
  return [
    'manifest',
    'push',
    '--all',
    '--authfile',
    options.authFile,
    '--digestfile',
    options.digestFile,
    manifest,
    `docker://${destination}`
  ]
}

export function buildahLoginArgs(registry: string, username: string, authFile: string): string[] {
  return ['login', '--authfile', authFile, '--username', username, '--password-stdin', registry]
}
