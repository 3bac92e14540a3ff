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

/**
 * The Dockerfile with all labels in one LABEL instruction at the end of the stage being built (the
 * `target` stage, else the last one). buildah turns every `--label` into a step of its own (each
 * costing a cache lookup and a commit even when nothing changed), and appends them after the last
 * stage even when `--target` builds another one, which would lose them.
 */
export function withLabelInstruction(
  dockerfile: string,
  labels: Record<string, string>,
  target = ''
): string {
  const entries = Object.entries(labels)
  if (entries.length === 0) return dockerfile
  const lines = dockerfile.replace(/\s*$/, '').split(/\r?\n/)
  // A `# escape=` parser directive (only valid before the first instruction) changes the escape character.
  let escape = '\\'
  for (const line of lines) {
    const directive = /^#\s*escape\s*=\s*(\S)\s*$/i.exec(line)
    if (directive) escape = directive[1]!
    else if (!/^#\s*\w+\s*=/.test(line)) break
  }
  const quote = (text: string) =>
    '"' +
    text
      .replace(/\r?\n/g, ' ')
      .split('')
      .map(ch => (ch === escape || ch === '"' || ch === '$' ? `${escape}${ch}` : ch))
      .join('') +
    '"'
  const instruction = `LABEL ${entries.map(([k, v]) => `${quote(k)}=${quote(v)}`).join(' ')}`
  let insertAt = lines.length
  if (target) {
    const start = lines.findIndex(l =>
      new RegExp(`^\\s*FROM\\s.*\\sAS\\s+${target.replace(/[.]/g, '\\.')}\\s*$`, 'i').test(l)
    )
    if (start < 0) throw new Error(`the Dockerfile has no stage named ${target}`)
    const next = lines.findIndex((l, i) => i > start && /^\s*FROM\s/i.test(l))
    if (next >= 0) {
      insertAt = next
      while (insertAt > start + 1 && /^\s*(#.*)?$/.test(lines[insertAt - 1]!)) insertAt--
    }
  }
  return [...lines.slice(0, insertAt), instruction, ...lines.slice(insertAt)].join('\n') + '\n'
}
