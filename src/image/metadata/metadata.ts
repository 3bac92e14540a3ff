/**
 * Tags, labels and version of an image as a pure function of the event and the rules, following
 * docker/metadata-action's documented behaviour: rules sorted by priority (stable), the first
 * value is the version, `latest` decided by the flavor and, in `auto`, by the highest-priority
 * rule that can move it (semver/pep440 final releases, match, ref event=tag).
 */
import { type GitContext, baseRefOf, branchOf, isDefaultBranch, pullRequestOf, tagOf } from './context.js'
import { formatDate } from './date-format.js'
import {
  type ExpressionCall,
  type ExpressionValue,
  TemplateError,
  hasExpression,
  renderTemplate
} from './template.js'
import { type Flavor, type ImageRule, RuleError, type TagRule } from './rules.js'
import { parsePep440, parseSemver } from './versions.js'
import { parseImageName, sanitizeTag } from '../reference.js'

export interface ImageMetadata {
  /** The highest-priority tag value (with prefix/suffix), the `version` output. */
  version: string
  /** Tag values without image names, in order: version, the others, then `latest`. */
  tagValues: string[]
  /** `name:tag` for every enabled image and tag value. */
  tags: string[]
  /** Enabled image names, lower-cased. */
  images: string[]
  /** OCI labels followed by the user's labels (a user label overrides an OCI one of the same key). */
  labels: Record<string, string>
  /** Why rules produced nothing, for the log (`semver: refs/heads/main is not a tag`). */
  notes: string[]
}

export interface MetadataRules {
  images: readonly ImageRule[]
  tags: readonly TagRule[]
  flavor: Flavor
  /** Extra labels; values may use global expressions such as `{{commit_date 'YYYY'}}`. */
  labels: ReadonlyMap<string, string>
}

const OCI = 'org.opencontainers.image'

export function globalExpressions(ctx: GitContext): Record<string, ExpressionValue> {
  const date = (at: Date) => (call: ExpressionCall) => {
    const format = call.args[0]
    if (format === undefined)
      throw new TemplateError(`{{${call.name}}} needs a format, e.g. {{${call.name} 'YYYYMMDD'}}`)
    return formatDate(at, format, call.options.tz ?? 'UTC')
  }
  return {
    branch: branchOf(ctx.ref) ?? '',
    tag: tagOf(ctx.ref) ?? '',
    sha: ctx.sha.slice(0, ctx.shortShaLength),
    base_ref: baseRefOf(ctx),
    is_default_branch: String(isDefaultBranch(ctx)),
    date: date(ctx.now),
    commit_date: date(ctx.commitDate)
  }
}

function renderIn(what: string, template: string, values: Record<string, ExpressionValue>): string {
  try {
    return renderTemplate(template, values)
  } catch (err) {
    if (err instanceof TemplateError) throw new RuleError(`${what}: ${err.message}`)
    throw err
  }
}

function enabled(what: string, enable: string, globals: Record<string, ExpressionValue>): boolean {
  const value = renderIn(what, enable, globals).trim().toLowerCase()
  if (value === 'true') return true
  if (value === 'false') return false
  throw new RuleError(`${what}: enable=${enable} is ${JSON.stringify(value)}, not true or false`)
}

interface Produced {
  values: string[]
  /** Undefined when this rule has no say over `latest`. */
  latest?: boolean
}

/** What one rule yields for this event, before prefix/suffix and sanitising. */
function produce(
  rule: TagRule,
  ctx: GitContext,
  globals: Record<string, ExpressionValue>,
  notes: string[]
): Produced {
  const what = `tag rule ${JSON.stringify(rule.source)}`
  const tag = tagOf(ctx.ref)
  switch (rule.type) {
    case 'schedule':
      if (ctx.eventName !== 'schedule') return { values: [] }
      return { values: [renderIn(what, rule.attrs.pattern!, globals)] }
    case 'semver':
    case 'pep440': {
      const raw = rule.attrs.value ? renderIn(what, rule.attrs.value, globals) : tag
      if (raw === undefined) {
        notes.push(`${rule.source}: ${ctx.ref || 'this ref'} is not a tag`)
        return { values: [] }
      }
      const parsed = rule.type === 'semver' ? parseSemver(raw) : parsePep440(raw)
      if (!parsed) {
        notes.push(
          `${rule.source}: ${JSON.stringify(raw)} is not a ${rule.type === 'semver' ? 'semantic' : 'PEP 440'} version`
        )
        return { values: [] }
      }
      const parts = {
        raw: parsed.raw,
        version: parsed.version,
        major: parsed.major,
        minor: parsed.minor,
        patch: parsed.patch
      }
      if (parsed.unstable) {
        // Pre-releases only ever get their full version (or the raw tag, if the pattern asks for it).
        const value = hasExpression(rule.attrs.pattern!, 'raw') ? parsed.raw : parsed.version
        return { values: [value], latest: false }
      }
      return { values: [renderIn(what, rule.attrs.pattern!, { ...globals, ...parts })], latest: true }
    }
    case 'match': {
      const raw = rule.attrs.value ? renderIn(what, rule.attrs.value, globals) : tag
      if (raw === undefined) {
        notes.push(`${rule.source}: ${ctx.ref || 'this ref'} is not a tag`)
        return { values: [] }
      }
      const m = new RegExp(rule.attrs.pattern!).exec(raw)
      const group = Number(rule.attrs.group)
      if (!m) {
        notes.push(`${rule.source}: ${JSON.stringify(raw)} does not match ${rule.attrs.pattern}`)
        return { values: [] }
      }
      if (group >= m.length)
        throw new RuleError(`${what}: group=${group} but the pattern has ${m.length - 1} group(s)`)
      const value = m[group]
      return value ? { values: [value], latest: true } : { values: [] }
    }
    case 'edge': {
      const want = rule.attrs.branch
        ? renderIn(what, rule.attrs.branch, globals)
        : ctx.repository.defaultBranch
      if (!want) {
        notes.push(
          `${rule.source}: the default branch is unknown (the event payload names no repository); set branch=`
        )
        return { values: [] }
      }
      return branchOf(ctx.ref) === want ? { values: ['edge'] } : { values: [] }
    }
    case 'ref':
      switch (rule.attrs.event) {
        case 'branch': {
          const branch = branchOf(ctx.ref)
          return branch === undefined ? { values: [] } : { values: [branch] }
        }
        case 'tag':
          return tag === undefined ? { values: [] } : { values: [tag], latest: true }
        default: {
          const pr = pullRequestOf(ctx)
          return pr === undefined ? { values: [] } : { values: [pr] }
        }
      }
    case 'raw':
      return { values: [renderIn(what, rule.attrs.value!, globals)] }
    case 'sha':
      if (!ctx.sha) return { values: [] }
      return { values: [rule.attrs.format === 'long' ? ctx.sha : ctx.sha.slice(0, ctx.shortShaLength)] }
  }
}

export function computeMetadata(ctx: GitContext, rules: MetadataRules): ImageMetadata {
  const globals = globalExpressions(ctx)
  const notes: string[] = []
  const flavorPrefix = renderIn('flavor prefix', rules.flavor.prefix, globals)
  const flavorSuffix = renderIn('flavor suffix', rules.flavor.suffix, globals)

  const values: string[] = []
  let latestDecision: boolean | undefined
  // Array.prototype.sort is stable: equal priorities keep the order the user wrote.
  const ordered = [...rules.tags].sort((a, b) => b.priority - a.priority)
  for (const rule of ordered) {
    const what = `tag rule ${JSON.stringify(rule.source)}`
    if (!enabled(what, rule.enable, globals)) continue
    const produced = produce(rule, ctx, globals, notes)
    const prefix = rule.prefix !== undefined ? renderIn(what, rule.prefix, globals) : flavorPrefix
    const suffix = rule.suffix !== undefined ? renderIn(what, rule.suffix, globals) : flavorSuffix
    for (const v of produced.values) {
      const value = sanitizeTag(`${prefix}${v}${suffix}`)
      if (value && !values.includes(value)) values.push(value)
    }
    if (produced.values.length && produced.latest !== undefined && latestDecision === undefined) {
      latestDecision = produced.latest
    }
  }
  const withLatest =
    values.length > 0 &&
    (rules.flavor.latest === 'true' || (rules.flavor.latest === 'auto' && latestDecision === true))
  const tagValues = [...values]
  if (withLatest) {
    const latest = sanitizeTag(
      `${rules.flavor.prefixOnLatest ? flavorPrefix : ''}latest${rules.flavor.suffixOnLatest ? flavorSuffix : ''}`
    )
    if (!tagValues.includes(latest)) tagValues.push(latest)
  }

  const images: string[] = []
  rules.images.forEach((image, i) => {
    const what = `image ${JSON.stringify(image.name)}`
    if (!enabled(what, image.enable, globals)) return
    const parsed = parseImageName(image.name)
    if (!parsed)
      throw new RuleError(
        `image ${i + 1} ${JSON.stringify(image.name)} is not an image name (registry/path, lower case)`
      )
    if (!images.includes(parsed.name)) images.push(parsed.name)
  })

  const version = values[0] ?? ''
  const labels: Record<string, string> = {
    [`${OCI}.title`]: ctx.repository.name,
    [`${OCI}.description`]: ctx.repository.description,
    [`${OCI}.url`]: ctx.repository.htmlUrl,
    [`${OCI}.source`]: ctx.repository.htmlUrl,
    [`${OCI}.version`]: version,
    [`${OCI}.revision`]: ctx.sha,
    [`${OCI}.licenses`]: ctx.repository.license,
    // Last: it changes on every build, and buildah turns each label into a step of its own, so
    // only the steps from here on miss the layer cache of an unchanged rebuild.
    [`${OCI}.created`]: ctx.now.toISOString()
  }
  for (const [key, value] of rules.labels) labels[key] = renderIn(`label ${key}`, value, globals)

  return {
    version,
    tagValues,
    tags: images.flatMap(image => tagValues.map(t => `${image}:${t}`)),
    images,
    labels,
    notes
  }
}

/** The `labels` output: `key=value` lines. */
export function labelLines(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`)
}
