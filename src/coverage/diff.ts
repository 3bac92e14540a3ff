/**
 * The lines a change adds, read from `git diff --unified=0` (pure). Git writes the diff; no library
 * reads its unified format into "new-side line numbers per file" for us (diff parsers on npm keep
 * every hunk's text, which a 2,000-file diff does not need), so this small reader does: it follows
 * the hunk headers' new-side start and count, the only numbers patch coverage needs.
 */

/** Added lines per file, by the path in the new tree (relative to the repository root). */
export type AddedLines = Map<string, number[]>

const HUNK = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/

export function parseAddedLines(diff: string): AddedLines {
  const out: AddedLines = new Map()
  let lines: number[] | undefined
  let next = 0
  let left = 0
  for (const raw of diff.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (left > 0) {
      if (line.startsWith('+')) {
        lines?.push(next++)
        left--
        continue
      }
      // Context lines (when the diff has any) advance the new side too; removals do not.
      if (line.startsWith(' ')) {
        next++
        left--
        continue
      }
      if (line.startsWith('-') || line.startsWith('\\')) continue
      left = 0
    }
    if (line.startsWith('diff --git ')) {
      lines = undefined
      continue
    }
    if (line.startsWith('+++ ')) {
      // A path with a space ends in a tab (so that a trailing space survives).
      const target = line.slice(4).replace(/\t$/, '')
      const path = target === '/dev/null' ? undefined : stripPrefix(unquote(target))
      lines = path === undefined ? undefined : (out.get(path) ?? [])
      if (path !== undefined && lines) out.set(path, lines)
      continue
    }
    const hunk = HUNK.exec(line)
    if (hunk) {
      next = Number(hunk[1])
      left = hunk[2] === undefined ? 1 : Number(hunk[2])
    }
  }
  for (const [p, l] of out) if (l.length === 0) out.delete(p)
  return out
}

function stripPrefix(path: string): string {
  return path.startsWith('b/') ? path.slice(2) : path
}

/**
 * Git quotes a path with unusual bytes as a C string ("b/caf\303\251.rs"); this turns it back into
 * the path (octal escapes are UTF-8 bytes).
 */
export function unquote(path: string): string {
  if (!path.startsWith('"') || !path.endsWith('"')) return path
  const bytes: number[] = []
  const body = path.slice(1, -1)
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 }
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'))
      continue
    }
    const n = body[i + 1] ?? ''
    if (/[0-7]/.test(n)) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8))
      i += 3
    } else {
      bytes.push(simple[n] ?? n.charCodeAt(0))
      i += 1
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/** Line numbers as closed ranges: [3,4,5,9] is [[3,5],[9,9]]. */
export function lineRanges(lines: Iterable<number>): [number, number][] {
  const sorted = [...new Set(lines)].sort((a, b) => a - b)
  const out: [number, number][] = []
  for (const l of sorted) {
    const last = out.at(-1)
    if (last && l === last[1] + 1) last[1] = l
    else out.push([l, l])
  }
  return out
}

/** Line numbers as `3-5, 9`, at most `limit` ranges (then `, …`). */
export function formatRanges(lines: Iterable<number>, limit = Infinity): string {
  const ranges = lineRanges(lines).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
  return ranges.length > limit ? `${ranges.slice(0, limit).join(', ')}, …` : ranges.join(', ')
}
