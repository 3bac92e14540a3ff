import { stripAnsi } from './errors.js'
export interface LintDiagnostic {
  file: string
  line: number
  level: 'error' | 'warning'
  message: string
}

const SHORT = /^(.+?\.rs):(\d+):\d+: (error|warning)(?:\[[^\]]+\])?: (.+)$/
const FMT_DIFF = /^Diff in (.+?\.rs)(?::(\d+)| at line (\d+)):?\s*$/

/**
 * Diagnostics worth an annotation from the cargo linters' output: rustc/clippy's
 * `--message-format=short` lines and rustfmt's `Diff in <file>:<line>` headers.
 */
export function parseLintOutput(output: string): LintDiagnostic[] {
  const out: LintDiagnostic[] = []
  for (const raw of output.split(/\r?\n/)) {
    const line = stripAnsi(raw)
    const short = SHORT.exec(line)
    if (short) {
      const message = short[4]!
      if (/^aborting due to|could not compile|\d+ warnings? emitted/.test(message)) continue
      out.push({ file: short[1]!, line: Number(short[2]), level: short[3] as 'error' | 'warning', message })
      continue
    }
    const diff = FMT_DIFF.exec(line)
    if (diff) out.push({ file: diff[1]!, line: Number(diff[2] ?? diff[3]), level: 'error', message: 'not formatted as rustfmt would (cargo fmt)' })
  }
  return out
}
