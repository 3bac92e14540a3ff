import * as core from '@actions/core'
import { InputError, type InputProblem } from './errors.js'
import { parseDuration } from './duration.js'
import { maskSecret } from './secrets.js'

/** Where raw input strings come from: the runner's `INPUT_*` variables by default. */
export type InputSource = (name: string) => string

/** The runner's name mangling: upper case, spaces to `_`, hyphens kept. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

export const envInputSource =
  (env: NodeJS.ProcessEnv = process.env): InputSource =>
  name =>
    (env[inputEnvName(name)] ?? '').trim()

/** How a view renames inputs, and which values it supplies itself. */
export interface InputNaming {
  rename: Record<string, string>
  given: Record<string, string>
}

interface Common {
  /** The input must be non-empty. */
  required?: boolean
}

/**
 * Reads and validates every input at the door. Each accessor records a problem instead of
 * throwing, so that one run reports every bad input; `done()` throws them all as one InputError.
 * Names read are remembered so a test can compare them with the inputs action.yml declares.
 */
export class Inputs {
  private readonly problems: InputProblem[]
  readonly read: Set<string>

  constructor(
    private readonly source: InputSource = envInputSource(),
    private readonly naming: InputNaming = { rename: {}, given: {} },
    shared?: { problems: InputProblem[]; read: Set<string> }
  ) {
    this.problems = shared?.problems ?? []
    this.read = shared?.read ?? new Set<string>()
  }

  /**
   * The same inputs seen by a parser written for another action: `rename` maps the names that
   * parser asks for to the names this action declares; `given` supplies values this action
   * computes itself (never read from the runner). Problems and names read are shared.
   */
  view(naming: Partial<InputNaming>): Inputs {
    return new Inputs(
      this.source,
      { rename: naming.rename ?? {}, given: naming.given ?? {} },
      { problems: this.problems, read: this.read }
    )
  }

  private declared(name: string): string {
    return this.naming.rename[name] ?? name
  }

  private raw(name: string, options: Common = {}): string {
    const given = this.naming.given[name]
    if (given !== undefined) return given
    const declared = this.declared(name)
    this.read.add(declared)
    const value = this.source(declared)
    if (options.required && value === '') this.problem(name, 'is required and was not given')
    return value
  }

  /** Records a problem with an input found by a later check (a cross-input rule, say). */
  problem(name: string, message: string): void {
    this.problems.push({ input: this.declared(name), message })
  }

  string(name: string, options: Common = {}): string {
    return this.raw(name, options)
  }

  /** A credential: masked before it is returned, so it can never reach the log. */
  secret(name: string, options: Common = {}): string {
    const value = this.raw(name, options)
    if (value !== '') maskSecret(value)
    return value
  }

  /** `true` or `false` as the runner passes them (YAML 1.2 core schema spellings accepted). */
  boolean(name: string): boolean {
    const value = this.raw(name)
    if (/^(true|True|TRUE)$/.test(value)) return true
    if (/^(false|False|FALSE|)$/.test(value)) return false
    this.problem(name, `${quote(value)} is not a boolean; use true or false`)
    return false
  }

  integer(name: string, options: Common & { min?: number; max?: number } = {}): number | undefined {
    const value = this.raw(name, options)
    if (value === '') return undefined
    if (!/^-?\d+$/.test(value)) {
      this.problem(name, `${quote(value)} is not an integer`)
      return undefined
    }
    const n = Number(value)
    if ((options.min !== undefined && n < options.min) || (options.max !== undefined && n > options.max)) {
      this.problem(name, `${n} is out of range; use ${range(options.min, options.max)}`)
      return undefined
    }
    return n
  }

  /** A decimal number such as a percentage. */
  number(name: string, options: Common & { min?: number; max?: number } = {}): number | undefined {
    const value = this.raw(name, options)
    if (value === '') return undefined
    const n = Number(value)
    if (!/^-?\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) {
      this.problem(name, `${quote(value)} is not a number`)
      return undefined
    }
    if ((options.min !== undefined && n < options.min) || (options.max !== undefined && n > options.max)) {
      this.problem(name, `${n} is out of range; use ${range(options.min, options.max)}`)
      return undefined
    }
    return n
  }

  /** A duration in milliseconds: `90s`, `5m`, `1h30m`, `500ms`, or a bare number of seconds. */
  duration(name: string, options: Common & { min?: number } = {}): number | undefined {
    const value = this.raw(name, options)
    if (value === '') return undefined
    const ms = parseDuration(value)
    if (ms === undefined) {
      this.problem(name, `${quote(value)} is not a duration; use a form like 90s, 5m, 1h30m or 500ms`)
      return undefined
    }
    if (options.min !== undefined && ms < options.min) {
      this.problem(name, `${quote(value)} is too short; use at least ${options.min}ms`)
      return undefined
    }
    return ms
  }

  /**
   * A list: one item per line (and, with `commas`, also comma-separated). Blank lines and
   * lines starting with `#` are ignored.
   */
  list(name: string, options: Common & { commas?: boolean } = {}): string[] {
    return splitList(this.raw(name, options), options.commas ?? false)
  }

  /** `key=value` lines (or comma-separated with `commas`); the value may contain `=`. */
  map(name: string, options: Common & { commas?: boolean; keyPattern?: RegExp } = {}): Map<string, string> {
    const result = new Map<string, string>()
    for (const item of splitList(this.raw(name, options), options.commas ?? false)) {
      const eq = item.indexOf('=')
      const key = eq > 0 ? item.slice(0, eq).trim() : ''
      if (key === '' || (options.keyPattern && !options.keyPattern.test(key))) {
        this.problem(
          name,
          `${quote(item)} is not a key=value pair${options.keyPattern ? ` with a key matching ${options.keyPattern}` : ''}`
        )
        continue
      }
      if (result.has(key)) this.problem(name, `key ${quote(key)} is given twice`)
      result.set(key, item.slice(eq + 1).trim())
    }
    return result
  }

  enum<const T extends string>(name: string, allowed: readonly T[], options: Common = {}): T | undefined {
    const value = this.raw(name, options)
    if (value === '') return undefined
    if ((allowed as readonly string[]).includes(value)) return value as T
    this.problem(name, `${quote(value)} is not one of ${allowed.join(', ')}`)
    return undefined
  }

  /** Glob patterns, one per line; `!pattern` excludes. Only the syntax is checked here. */
  globs(name: string, options: Common = {}): string[] {
    const patterns = splitList(this.raw(name, options), false)
    for (const pattern of patterns) {
      const problem = globSyntaxProblem(pattern)
      if (problem) this.problem(name, `${quote(pattern)} is not a valid glob: ${problem}`)
    }
    return patterns
  }

  /** Throws every recorded problem as one InputError; call it before the first side effect. */
  done(): void {
    if (this.problems.length > 0) throw new InputError(this.problems)
  }
}

export function splitList(text: string, commas: boolean): string[] {
  const items: string[] = []
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    for (const part of commas ? trimmed.split(',') : [trimmed]) {
      const item = part.trim()
      if (item !== '') items.push(item)
    }
  }
  return items
}

function globSyntaxProblem(pattern: string): string | undefined {
  const body = pattern.startsWith('!') ? pattern.slice(1) : pattern
  if (body === '') return 'the pattern is empty'
  let depth = 0
  for (const ch of body) {
    if (ch === '[') depth++
    else if (ch === ']') depth = Math.max(0, depth - 1)
  }
  if (depth !== 0) return 'a [ is not closed'
  const braces = [...body].reduce((d, ch) => (ch === '{' ? d + 1 : ch === '}' ? d - 1 : d), 0)
  if (braces !== 0) return 'a { is not closed'
  return undefined
}

function quote(value: string): string {
  return JSON.stringify(value)
}

function range(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return `${min} to ${max}`
  if (min !== undefined) return `at least ${min}`
  return `at most ${max}`
}

/** Convenience for actions: parse with a fresh reader over the runner's environment. */
export function readInputs<T>(parse: (inputs: Inputs) => T, source: InputSource = envInputSource()): T {
  const inputs = new Inputs(source)
  const config = parse(inputs)
  inputs.done()
  core.debug(`inputs read: ${[...inputs.read].join(', ')}`)
  return config
}
