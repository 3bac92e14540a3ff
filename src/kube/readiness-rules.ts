/**
 * Readiness rules: when an object of a kind the suite has no viewer for is ready, and when it has
 * failed, as JSONPath matches on the object (kubectl's JSONPath, evaluated by jsonpath-plus). A few
 * common kinds are shipped; a `readiness-rules` file adds or replaces rules by group and kind. The
 * file is read and checked before anything is applied; an error names the file, line and field.
 */
import { readFile } from 'node:fs/promises'
import { JSONPath } from 'jsonpath-plus'
import type { Node } from 'yaml'
import { LineCounter, isMap, isSeq, parseDocument } from 'yaml'
import { groupOf } from './objects.js'

/** One test on an object: the values at a JSONPath, compared. */
export interface Matcher {
  /** kubectl JSONPath, with or without braces: `.status.phase`, `{.status.conditions[?(@.type=="Ready")].status}`. */
  path: string
  equals?: string
  in?: string[]
  matches?: string
  /** True: the path finds something; false: it finds nothing. */
  exists?: boolean
}

export interface FailureMatcher extends Matcher {
  /** A JSONPath whose value says why (a condition's message). */
  message?: string
}

export interface ReadinessRule {
  /** API group ('' for the core group). */
  group: string
  kind: string
  /** Ready when every one matches. */
  success: Matcher[]
  /** Failed when any one matches. */
  failure: FailureMatcher[]
  /** Where it was defined, for messages: `shipped` or `file:line`. */
  source: string
}

/** The rules shipped with the suite, documented in docs/readiness-rules.md. */
export const SHIPPED_RULES: readonly ReadinessRule[] = [
  {
    group: 'cert-manager.io',
    kind: 'Certificate',
    success: [{ path: '.status.conditions[?(@.type=="Ready")].status', equals: 'True' }],
    failure: [
      {
        path: '.status.conditions[?(@.type=="Issuing")].reason',
        equals: 'Failed',
        message: '.status.conditions[?(@.type=="Issuing")].message'
      }
    ],
    source: 'shipped'
  },
  {
    group: 'argoproj.io',
    kind: 'Rollout',
    success: [{ path: '.status.phase', equals: 'Healthy' }],
    failure: [{ path: '.status.phase', equals: 'Degraded', message: '.status.message' }],
    source: 'shipped'
  },
  {
    group: 'flagger.app',
    kind: 'Canary',
    success: [{ path: '.status.phase', in: ['Initialized', 'Succeeded'] }],
    failure: [
      {
        path: '.status.phase',
        equals: 'Failed',
        message: '.status.conditions[?(@.type=="Promoted")].message'
      }
    ],
    source: 'shipped'
  },
  {
    group: '',
    kind: 'PersistentVolumeClaim',
    success: [{ path: '.status.phase', equals: 'Bound' }],
    failure: [{ path: '.status.phase', equals: 'Lost', message: '.status.phase' }],
    source: 'shipped'
  }
]

/** The values a kubectl JSONPath finds in an object, as strings. */
export function valuesAt(obj: unknown, path: string): string[] {
  const found = JSONPath({ path: toJsonPathPlus(path), json: obj as object, wrap: true }) as unknown[]
  return found.map(v => (typeof v === 'string' ? v : JSON.stringify(v)))
}

/** kubectl's `{.a.b}` / `.a.b` as jsonpath-plus's `$.a.b`. */
function toJsonPathPlus(path: string): string {
  const bare = path
    .trim()
    .replace(/^\{(.*)\}$/s, '$1')
    .trim()
  return bare.startsWith('$') ? bare : `$${bare.startsWith('.') || bare.startsWith('[') ? '' : '.'}${bare}`
}

export function matches(obj: unknown, m: Matcher): boolean {
  const values = valuesAt(obj, m.path)
  if (m.exists !== undefined) return m.exists === values.length > 0
  if (m.equals !== undefined) return values.includes(m.equals)
  if (m.in) return values.some(v => m.in!.includes(v))
  if (m.matches !== undefined) {
    const re = new RegExp(m.matches)
    return values.some(v => re.test(v))
  }
  return values.length > 0
}

/** The rule for a group and kind: the file's rules win over the shipped ones. */
export function ruleFor(
  rules: readonly ReadinessRule[],
  group: string,
  kind: string
): ReadinessRule | undefined {
  return [...rules].reverse().find(r => r.group === group && r.kind === kind)
}

/**
 * Reads a readiness-rules file: a list of `{apiVersion or group, kind, success, failure}`.
 * Returns the shipped rules followed by the file's, or the problems (each naming file and line).
 */
export async function loadReadinessRules(
  file: string | undefined
): Promise<{ rules: ReadinessRule[]; problems: string[] }> {
  if (!file) return { rules: [...SHIPPED_RULES], problems: [] }
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    return { rules: [], problems: [`readiness-rules: cannot read ${file}: ${(err as Error).message}`] }
  }
  const parsed = parseReadinessRules(text, file)
  return { rules: [...SHIPPED_RULES, ...parsed.rules], problems: parsed.problems }
}

export function parseReadinessRules(
  text: string,
  file: string
): { rules: ReadinessRule[]; problems: string[] } {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines })
  const at = (node: Node | null | undefined) =>
    `${file}:${node?.range ? lines.linePos(node.range[0]).line : 1}`
  const problems = doc.errors.map(e => `${file}:${e.linePos?.[0]?.line ?? 1}: ${e.message.split('\n')[0]}`)
  if (problems.length) return { rules: [], problems }
  const root = doc.contents
  const list = isMap(root) && root.has('rules') ? (root.get('rules', true) as Node) : root
  if (!isSeq(list))
    return { rules: [], problems: [`${at(root)}: expected a list of rules (or rules: [...])`] }
  const rules: ReadinessRule[] = []
  for (const item of list.items) {
    const where = at(item as Node)
    if (!isMap(item)) {
      problems.push(`${where}: a rule is a mapping with kind, success and failure`)
      continue
    }
    const raw = (item as Node).toJSON() as Record<string, unknown>
    const known = ['apiVersion', 'group', 'kind', 'success', 'failure']
    for (const key of Object.keys(raw))
      if (!known.includes(key))
        problems.push(`${where}: unknown field ${key} (a rule has ${known.join(', ')})`)
    if (typeof raw.kind !== 'string' || !raw.kind) {
      problems.push(`${where}: kind is required`)
      continue
    }
    const group =
      typeof raw.group === 'string'
        ? raw.group
        : typeof raw.apiVersion === 'string'
          ? groupOf(raw.apiVersion)
          : undefined
    if (group === undefined) {
      problems.push(`${where}: ${raw.kind}: group (or apiVersion) is required`)
      continue
    }
    const success = matchersOf(raw.success, `${where}: ${raw.kind}: success`, problems)
    const failure = matchersOf(raw.failure, `${where}: ${raw.kind}: failure`, problems) as FailureMatcher[]
    if (success.length === 0) problems.push(`${where}: ${raw.kind}: success needs at least one matcher`)
    rules.push({ group, kind: raw.kind, success, failure, source: where })
  }
  return { rules: problems.length ? [] : rules, problems }
}

function matchersOf(value: unknown, where: string, problems: string[]): Matcher[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    problems.push(`${where} is a list of matchers ({path, equals | in | matches | exists})`)
    return []
  }
  const out: Matcher[] = []
  value.forEach((m: Record<string, unknown>, i) => {
    const here = `${where}[${i}]`
    if (typeof m !== 'object' || m === null || typeof m.path !== 'string') {
      problems.push(`${here}: path (a JSONPath such as .status.phase) is required`)
      return
    }
    const tests = ['equals', 'in', 'matches', 'exists'].filter(k => m[k] !== undefined)
    if (tests.length > 1)
      problems.push(`${here}: use one of equals, in, matches, exists (found ${tests.join(', ')})`)
    for (const key of Object.keys(m))
      if (!['path', 'equals', 'in', 'matches', 'exists', 'message'].includes(key))
        problems.push(`${here}: unknown field ${key}`)
    try {
      valuesAt({}, m.path)
      if (typeof m.message === 'string') valuesAt({}, m.message)
    } catch (err) {
      problems.push(`${here}: path ${m.path}: ${(err as Error).message}`)
    }
    if (m.equals !== undefined && typeof m.equals !== 'string')
      problems.push(`${here}: equals takes a string (quote it: "${String(m.equals)}")`)
    if (m.in !== undefined && !(Array.isArray(m.in) && m.in.every(v => typeof v === 'string')))
      problems.push(`${here}: in takes a list of strings`)
    if (m.exists !== undefined && typeof m.exists !== 'boolean')
      problems.push(`${here}: exists takes true or false`)
    if (m.matches !== undefined) {
      try {
        new RegExp(String(m.matches))
      } catch (err) {
        problems.push(`${here}: matches: ${(err as Error).message}`)
      }
    }
    out.push(m as unknown as Matcher)
  })
  return out
}
