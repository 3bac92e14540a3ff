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
    const line = position ? lineAt(text, Number(position[1])) : lineCol ? Number(lineCol[1]) : undefined
    throw new ReportError(file, line, `is not valid JSON (${message})`)
  }
}

// eslint-disable-next-line no-control-regex -- matching terminal colour codes is the point
const ANSI = /\x1b\[[0-9;]*m/g

/** Text without terminal colour codes (test tools colour their output when they think it is a TTY). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '')
}
