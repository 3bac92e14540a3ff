import { ActionError } from '../runtime/index.js'

/**
 * A report that cannot be read as what it claims to be. The message names the file and, where it
 * can be known, the line, so a person can open the report at the spot.
 */
export class ReportError extends ActionError {
  readonly file: string
  readonly line: number | undefined

  constructor(file: string, line: number | undefined, message: string, hint?: string) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${message}`, hint ? { hint } : {})
    this.name = 'ReportError'
    this.file = file
    this.line = line
  }
}

/** The 1-based line of a character offset in `text`. */
export function lineAt(text: string, offset: number): number {
  let line = 1
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++
  return line
}

/** The 1-based line where `needle` first occurs, or undefined. */
export function lineOf(text: string, needle: string, from = 0): number | undefined {
  const at = text.indexOf(needle, from)
  return at === -1 ? undefined : lineAt(text, at)
}

/** JSON.parse with an error naming the file and the line of the syntax error. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    const message = (err as Error).message
    const position = /position (\d+)/.exec(message)
    const lineCol = /line (\d+) column \d+/.exec(message)
    const offset = position ? Number(position[1]) : lineCol ? undefined : jsonErrorOffset(text)
    const line = lineCol ? Number(lineCol[1]) : offset !== undefined && offset >= 0 ? lineAt(text, offset) : undefined
    throw new ReportError(file, line, `is not valid JSON (${message})`)
  }
}

// eslint-disable-next-line no-control-regex -- matching terminal colour codes is the point
const ANSI = /\x1b\[[0-9;]*m/g

/** Text without terminal colour codes (test tools colour their output when they think it is a TTY). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '')
}

/**
 * The offset of the first JSON syntax error in `text`, for engines whose JSON.parse message has no
 * position. A plain recursive-descent scan; it is only run on text that JSON.parse refused.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++
  }
  const fail = (): never => {
    throw i
  }
  const lit = (word: string) => (text.startsWith(word, i) ? (i += word.length) : fail())
  const str = () => {
    i++
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++
      else if (text.charCodeAt(i) < 0x20) fail()
      i++
    }
    if (i >= text.length) fail()
    i++
  }
  const num = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (!m) fail()
    i += m![0].length
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      ws()
      if (text[i] === '}') return void i++
      for (;;) {
        ws()
        if (text[i] !== '"') fail()
        str()
        ws()
        if (text[i] !== ':') fail()
        i++
        value()
        ws()
        if (text[i] === ',') i++
        else if (text[i] === '}') return void i++
        else fail()
      }
    }
    if (c === '[') {
      i++
      ws()
      if (text[i] === ']') return void i++
      for (;;) {
        value()
        ws()
        if (text[i] === ',') i++
        else if (text[i] === ']') return void i++
        else fail()
      }
    }
    if (c === '"') return str()
    if (c === 't') return void lit('true')
    if (c === 'f') return void lit('false')
    if (c === 'n') return void lit('null')
    return num()
  }
  try {
    value()
    ws()
    return i < text.length ? i : -1
  } catch (at) {
    if (typeof at === 'number') return at
    throw at
  }
}
