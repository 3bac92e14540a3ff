/**
 * Version parsing for the `semver` and `pep440` tag types. Both return the parts a pattern can
 * use and whether the version is a final release (only final releases may move `latest` or get
 * the short `{{major}}.{{minor}}` forms).
 */
import semver from 'semver'

export interface ParsedVersion {
  /** The tag as given (`v1.2.3`). */
  raw: string
  /** The cleaned version: semver without `v` and build metadata, PEP 440 normalized. */
  version: string
  major: string
  minor: string
  patch: string
  /** A pre-release, dev or post release: only `{{version}}` or `{{raw}}` are produced for it. */
  unstable: boolean
}

export function parseSemver(raw: string): ParsedVersion | undefined {
  const parsed = semver.parse(raw.trim(), { loose: true })
  if (!parsed) return undefined
  return {
    raw,
    version: parsed.version,
    major: String(parsed.major),
    minor: String(parsed.minor),
    patch: String(parsed.patch),
    unstable: parsed.prerelease.length > 0
  }
}

// PEP 440's permissive spelling (what pip accepts), case-insensitive, with an optional leading v.
const PEP440 =
  /^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(alpha|beta|preview|pre|a|b|c|rc)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i

const PRE_SPELLING: Record<string, string> = {
  alpha: 'a',
  a: 'a',
  beta: 'b',
  b: 'b',
  c: 'rc',
  pre: 'rc',
  preview: 'rc',
  rc: 'rc'
}

/** Parses a PEP 440 version and renders its normalized form (`1.2.3beta2` → `1.2.3b2`). */
export function parsePep440(raw: string): ParsedVersion | undefined {
  const m = PEP440.exec(raw)
  if (!m) return undefined
  const [, epoch, release, preL, preN, postImplicit, postL, postN, devL, devN, local] = m
  const numbers = release!.split('.').map(n => String(Number(n)))
  let version = ''
  if (epoch && Number(epoch) !== 0) version += `${Number(epoch)}!`
  version += numbers.join('.')
  if (preL) version += `${PRE_SPELLING[preL.toLowerCase()]}${Number(preN ?? 0)}`
  if (postImplicit !== undefined) version += `.post${Number(postImplicit)}`
  else if (postL) version += `.post${Number(postN ?? 0)}`
  if (devL) version += `.dev${Number(devN ?? 0)}`
  if (local) version += `+${local.toLowerCase().replace(/[-_]/g, '.')}`
  return {
    raw,
    version,
    major: numbers[0]!,
    minor: numbers[1] ?? '0',
    patch: numbers[2] ?? '0',
    unstable: Boolean(preL || postImplicit !== undefined || postL || devL)
  }
}
