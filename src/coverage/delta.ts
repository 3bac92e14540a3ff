import { percent, totals, type FileCoverage } from './model.js'

export interface FileDelta {
  path: string
  base: number | undefined
  current: number | undefined
  /** Percentage points; undefined when either side has nothing coverable. */
  delta: number | undefined
}

export interface CoverageDelta {
  baseSha: string
  lines: number | undefined
  branches: number | undefined
  base: { lines: number | undefined; branches: number | undefined }
  /** Files whose line coverage changed, were added or removed; largest drop first. */
  files: FileDelta[]
}

const points = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined ? undefined : Math.round((a - b) * 100) / 100

export function coverageDelta(current: readonly FileCoverage[], base: readonly FileCoverage[], baseSha: string): CoverageDelta {
  const now = totals(current)
  const then = totals(base)
  const baseByPath = new Map(base.map(f => [f.path, f]))
  const files: FileDelta[] = []
  for (const f of current) {
    const b = baseByPath.get(f.path)
    baseByPath.delete(f.path)
    const cur = percent(f.lines)
    const old = b ? percent(b.lines) : undefined
    if (b && b.lines.hit === f.lines.hit && b.lines.found === f.lines.found) continue
    files.push({ path: f.path, base: old, current: cur, delta: points(cur, old) })
  }
  for (const b of baseByPath.values()) files.push({ path: b.path, base: percent(b.lines), current: undefined, delta: undefined })
  files.sort((x, y) => (x.delta ?? 0) - (y.delta ?? 0) || x.path.localeCompare(y.path))
  return {
    baseSha,
    lines: points(percent(now.lines), percent(then.lines)),
    branches: points(percent(now.branches), percent(then.branches)),
    base: { lines: percent(then.lines), branches: percent(then.branches) },
    files
  }
}
