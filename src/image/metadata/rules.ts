/**
 * Parses the `tags`, `flavor` and `images` inputs (docker/metadata-action's syntax: one rule per
 * line, comma-separated `key=value` attributes, CSV quoting for values with commas) into data.
 * Every problem names the line it comes from.
 */
import { parse as parseCsv } from 'csv-parse/sync'

export const TAG_TYPES = ['schedule', 'semver', 'pep440', 'match', 'edge', 'ref', 'raw', 'sha'] as const
export type TagType = (typeof TAG_TYPES)[number]

export const DEFAULT_PRIORITY: Record<TagType, number> = {
  schedule: 1000,
  semver: 900,
  pep440: 900,
  match: 800,
  edge: 700,
  ref: 600,
  raw: 200,
  sha: 100
}

/** Attributes each type accepts besides the common `enable`, `priority`, `prefix`, `suffix`. */
const TYPE_ATTRIBUTES: Record<TagType, readonly string[]> = {
  schedule: ['pattern'],
  semver: ['pattern', 'value'],
  pep440: ['pattern', 'value'],
  match: ['pattern', 'group', 'value'],
  edge: ['branch'],
  ref: ['event'],
  raw: ['value'],
  sha: ['format']
}
const COMMON_ATTRIBUTES = ['type', 'enable', 'priority', 'prefix', 'suffix']

export interface TagRule {
  type: TagType
  /** The text of the line, for messages. */
  source: string
  /** Unrendered: may be `{{is_default_branch}}`. */
  enable: string
  priority: number
  /** Undefined when the rule sets none, so the flavor's prefix/suffix apply instead. */
  prefix: string | undefined
  suffix: string | undefined
  attrs: Record<string, string>
}

export class RuleError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RuleError'
  }
}

function fields(line: string, what: string): string[] {
  try {
    const rows = parseCsv(line, { relax_quotes: true, skip_empty_lines: true, trim: true }) as string[][]
    return (rows[0] ?? []).filter(f => f !== '')
  } catch (err) {
    throw new RuleError(`${what} ${JSON.stringify(line)} cannot be read: ${(err as Error).message}`)
  }
}

/** `key=value` fields; a bare field (no `=`) is returned under the key `''`. */
function attributes(line: string, what: string): Map<string, string> {
  const result = new Map<string, string>()
  for (const field of fields(line, what)) {
    const eq = field.indexOf('=')
    const key = eq > 0 ? field.slice(0, eq).trim().toLowerCase() : ''
    const value = eq > 0 ? field.slice(eq + 1).trim() : field
    if (result.has(key)) {
      throw new RuleError(`${what} ${JSON.stringify(line)} sets ${key || 'a bare value'} twice`)
    }
    result.set(key, value)
  }
  return result
}

export function parseTagRule(line: string, index = 0): TagRule {
  const what = `tag rule ${index + 1}`
  // A line that is not key=value at all is a raw tag (`latest`, `stable`).
  if (!/^\s*[A-Za-z-]+\s*=/.test(line) && !line.includes(',')) {
    return {
      type: 'raw',
      source: line,
      enable: 'true',
      priority: DEFAULT_PRIORITY.raw,
      prefix: undefined,
      suffix: undefined,
      attrs: { value: line.trim() }
    }
  }
  const attrs = attributes(line, what)
  const typeText = attrs.get('type') ?? 'raw'
  if (!(TAG_TYPES as readonly string[]).includes(typeText)) {
    throw new RuleError(
      `${what} ${JSON.stringify(line)}: type=${typeText} is not one of ${TAG_TYPES.join(', ')}`
    )
  }
  const type = typeText as TagType
  if (attrs.has('')) {
    if (type !== 'raw' || attrs.has('value')) {
      throw new RuleError(
        `${what} ${JSON.stringify(line)}: ${JSON.stringify(attrs.get(''))} is not a key=value attribute`
      )
    }
    attrs.set('value', attrs.get('')!)
    attrs.delete('')
  }
  for (const key of attrs.keys()) {
    if (!COMMON_ATTRIBUTES.includes(key) && !TYPE_ATTRIBUTES[type].includes(key)) {
      throw new RuleError(
        `${what} ${JSON.stringify(line)}: type=${type} has no attribute ${key}; it takes ${[...COMMON_ATTRIBUTES.slice(1), ...TYPE_ATTRIBUTES[type]].join(', ')}`
      )
    }
  }
  let priority = DEFAULT_PRIORITY[type]
  if (attrs.has('priority')) {
    const p = attrs.get('priority')!
    if (!/^-?\d+$/.test(p))
      throw new RuleError(`${what} ${JSON.stringify(line)}: priority=${p} is not an integer`)
    priority = Number(p)
  }
  const rest: Record<string, string> = {}
  for (const [k, v] of attrs) if (!COMMON_ATTRIBUTES.includes(k)) rest[k] = v

  let prefix = attrs.get('prefix')
  const suffix = attrs.get('suffix')
  switch (type) {
    case 'semver':
    case 'pep440':
      if (!rest.pattern)
        throw new RuleError(
          `${what} ${JSON.stringify(line)}: type=${type} needs a pattern, e.g. pattern={{version}}`
        )
      break
    case 'match':
      if (!rest.pattern)
        throw new RuleError(
          `${what} ${JSON.stringify(line)}: type=match needs a pattern, e.g. pattern=v(.*),group=1`
        )
      try {
        new RegExp(rest.pattern)
      } catch (err) {
        throw new RuleError(
          `${what} ${JSON.stringify(line)}: pattern is not a regular expression: ${(err as Error).message}`
        )
      }
      rest.group ??= '0'
      if (!/^\d+$/.test(rest.group))
        throw new RuleError(`${what} ${JSON.stringify(line)}: group=${rest.group} is not a group number`)
      break
    case 'schedule':
      rest.pattern ??= 'nightly'
      break
    case 'ref':
      if (!rest.event)
        throw new RuleError(
          `${what} ${JSON.stringify(line)}: type=ref needs event=branch, event=tag or event=pr`
        )
      if (!['branch', 'tag', 'pr'].includes(rest.event)) {
        throw new RuleError(
          `${what} ${JSON.stringify(line)}: event=${rest.event} is not one of branch, tag, pr`
        )
      }
      if (rest.event === 'pr' && prefix === undefined) prefix = 'pr-'
      break
    case 'raw':
      if (!rest.value)
        throw new RuleError(
          `${what} ${JSON.stringify(line)}: type=raw needs a value, e.g. type=raw,value=stable`
        )
      break
    case 'sha':
      rest.format ??= 'short'
      if (!['short', 'long'].includes(rest.format)) {
        throw new RuleError(
          `${what} ${JSON.stringify(line)}: format=${rest.format} is not one of short, long`
        )
      }
      if (prefix === undefined) prefix = 'sha-'
      break
    case 'edge':
      break
  }
  return { type, source: line, enable: attrs.get('enable') ?? 'true', priority, prefix, suffix, attrs: rest }
}

/** The rules used when the `tags` input is empty. */
export const DEFAULT_TAG_RULES = [
  'type=schedule',
  'type=ref,event=branch',
  'type=ref,event=tag',
  'type=ref,event=pr'
]

export function parseTagRules(lines: readonly string[]): TagRule[] {
  return (lines.length ? lines : DEFAULT_TAG_RULES).map((l, i) => parseTagRule(l, i))
}

export interface Flavor {
  latest: 'auto' | 'true' | 'false'
  prefix: string
  prefixOnLatest: boolean
  suffix: string
  suffixOnLatest: boolean
}

export function parseFlavor(lines: readonly string[]): Flavor {
  const flavor: Flavor = {
    latest: 'auto',
    prefix: '',
    prefixOnLatest: false,
    suffix: '',
    suffixOnLatest: false
  }
  lines.forEach((line, i) => {
    const what = `flavor line ${i + 1}`
    const attrs = attributes(line, what)
    for (const [key, value] of attrs) {
      switch (key) {
        case 'latest':
          if (value !== 'auto' && value !== 'true' && value !== 'false') {
            throw new RuleError(
              `${what} ${JSON.stringify(line)}: latest=${value} is not one of auto, true, false`
            )
          }
          flavor.latest = value
          break
        case 'prefix':
          flavor.prefix = value
          break
        case 'suffix':
          flavor.suffix = value
          break
        case 'onlatest': {
          if (value !== 'true' && value !== 'false') {
            throw new RuleError(`${what} ${JSON.stringify(line)}: onlatest=${value} is not true or false`)
          }
          if (attrs.has('prefix')) flavor.prefixOnLatest = value === 'true'
          else if (attrs.has('suffix')) flavor.suffixOnLatest = value === 'true'
          else
            throw new RuleError(
              `${what} ${JSON.stringify(line)}: onlatest applies to a prefix= or suffix= on the same line`
            )
          break
        }
        default:
          throw new RuleError(
            `${what} ${JSON.stringify(line)}: ${key || JSON.stringify(value)} is not a flavor; use latest=, prefix= or suffix=`
          )
      }
    }
  })
  return flavor
}

export interface ImageRule {
  name: string
  enable: string
}

/** `images` entries: `name/app` or `name=name/app,enable=...`. */
export function parseImageRules(lines: readonly string[]): ImageRule[] {
  return lines.map((line, i) => {
    const what = `image ${i + 1}`
    if (!line.includes('=')) return { name: line.trim(), enable: 'true' }
    const attrs = attributes(line, what)
    for (const key of attrs.keys()) {
      if (key !== 'name' && key !== 'enable')
        throw new RuleError(
          `${what} ${JSON.stringify(line)}: ${key || 'a bare value'} is not name= or enable=`
        )
    }
    const name = attrs.get('name') ?? ''
    if (!name) throw new RuleError(`${what} ${JSON.stringify(line)} has no name=`)
    return { name, enable: attrs.get('enable') ?? 'true' }
  })
}
