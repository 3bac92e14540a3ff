/** Where a failure happened and what it said, from the text of a test failure (Rust or JavaScript). */

const PANIC = /panicked at (?:'.*?', )?([^\s:'"]+\.rs):(\d+):\d+/
const FRAME = /(?:\(|at )((?:file:\/\/)?[^\s()]+?\.[cm]?[jt]sx?):(\d+):\d+\)?/g

/**
 * A failure's location from its text: a Rust panic location, else the first stack frame outside
 * node_modules and node internals (the frame in the test file itself when the test names its file).
 */
export function findLocation(body: string, preferFile?: string): { file: string; line: number } | undefined {
  const panic = PANIC.exec(body)
  if (panic) return { file: panic[1]!, line: Number(panic[2]) }
  const frames = [...body.matchAll(FRAME)]
    .map(m => ({ file: m[1]!.replace(/^file:\/\//, ''), line: Number(m[2]) }))
    .filter(f => !f.file.includes('node_modules/') && !f.file.startsWith('node:') && !f.file.includes('internal/'))
  if (preferFile) {
    const inTestFile = frames.find(f => f.file.endsWith(preferFile) || preferFile.endsWith(f.file))
    if (inTestFile) return inTestFile
  }
  return frames[0]
}


/** The panic message: the line after `panicked at file:line:col:`, or the quoted old form. */
export function panicMessage(body: string): string {
  const lines = body.split(/\r?\n/)
  const i = lines.findIndex(l => l.includes('panicked at '))
  if (i === -1) return lines.find(l => l.trim() !== '')?.trim() ?? ''
  const old = /panicked at '(.*)', /.exec(lines[i]!)
  if (old) return old[1]!
  const rest = [lines[i + 1] ?? '']
  if (/^\s*(left|right)/.test(lines[i + 2] ?? '')) rest.push(lines[i + 2]!.trim(), (lines[i + 3] ?? '').trim())
  return rest.join(' ').trim()
}
