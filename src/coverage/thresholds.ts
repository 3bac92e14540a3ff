import { minimatch } from 'minimatch'
import { percent, totals, type Counter, type CoverageTotals, type FileCoverage } from './model.js'
import type { PatchCoverage } from './patch.js'

export interface MinCoverage {
  line?: number
  branch?: number
}

/**
 * `min-coverage`: `80` (lines), `80/60` or `80,60` (lines, branches), or named
 * `line=80, branch=60` (either may be left out). Returns a problem message instead of throwing.
 */
export function parseMinCoverage(text: string): MinCoverage | string {
  const value = text.trim()
  if (value === '') return {}
  const pct = (s: string, what: string): number | string => {
    const t = s.trim().replace(/%$/, '')
    if (!/^\d+(\.\d+)?$/.test(t)) return `${JSON.stringify(s.trim())} is not a percentage for ${what}`
    const n = Number(t)
    if (n > 100) return `${what} ${n}% can never be reached; use a percentage from 0 to 100`
    return n
  }
  const out: MinCoverage = {}
  if (value.includes('=')) {
    for (const part of value.split(/[,\s]+/).filter(Boolean)) {
      const [key, v = ''] = part.split('=', 2)
      const metric = /^lines?$/.test(key!) ? 'line' : /^branch(es)?$/.test(key!) ? 'branch' : undefined
      if (!metric) return `${JSON.stringify(part)}: use line=<percent> and/or branch=<percent>`
      const n = pct(v, `${metric} coverage`)
      if (typeof n === 'string') return n
      out[metric] = n
    }
    return out
  }
  const parts = value.split(/\s*[,/]\s*|\s+/)
  if (parts.length > 2) return `${JSON.stringify(value)}: give a line percentage and optionally a branch one, like 80 or 80/60`
  const line = pct(parts[0]!, 'line coverage')
  if (typeof line === 'string') return line
  out.line = line
  if (parts[1] !== undefined) {
    const branch = pct(parts[1], 'branch coverage')
    if (typeof branch === 'string') return branch
    out.branch = branch
  }
  return out
}

/** A minimum for the files under one path glob (`crates/relay/**: 90/75`). */
export interface PathThreshold extends MinCoverage {
  glob: string
}

export interface Thresholds {
  /** For the totals of every report. */
  total: MinCoverage
  paths: PathThreshold[]
}

/**
 * The whole `min-coverage` input: one line for the totals (`80/60`), and lines `<glob>: <spec>`
 * for the files under a path (a monorepo's packages, each with its own bar). Returns a problem
 * message instead of throwing.
 */
export function parseThresholds(text: string): Thresholds | string {
  const out: Thresholds = { total: {}, paths: [] }
  let sawTotal = false
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const at = line.search(/:\s/)
    const where = text.includes('\n') ? `line ${i + 1}: ` : ''
    if (at === -1 && !line.endsWith(':')) {
      if (sawTotal) return `${where}a second totals line ${JSON.stringify(line)}; give one, and <glob>: <spec> lines for paths`
      const spec = parseMinCoverage(line)
      if (typeof spec === 'string') return `${where}${spec}`
      out.total = spec
      sawTotal = true
      continue
    }
    const glob = (at === -1 ? line.slice(0, -1) : line.slice(0, at)).trim()
    const spec = parseMinCoverage(at === -1 ? '' : line.slice(at + 1))
    if (typeof spec === 'string') return `${where}${glob}: ${spec}`
    if (spec.line === undefined && spec.branch === undefined) return `${where}${glob}: no percentage after the glob`
    out.paths.push({ glob, ...spec })
  }
  return out
}

export interface Violation {
  metric: 'line' | 'branch' | 'patch'
  /** The path glob whose files missed it; none for the totals. */
  glob?: string
  actual: number | undefined
  minimum: number
  message: string
}

export interface PathResult {
  threshold: PathThreshold
  totals: CoverageTotals
  violations: Violation[]
}

/** Each path glob's totals against its minimum. A glob no file matches is a violation: a typo must not pass. */
export function checkPathThresholds(files: readonly FileCoverage[], paths: readonly PathThreshold[]): PathResult[] {
  return paths.map(threshold => {
    const mine = files.filter(f => minimatch(f.path, threshold.glob, { dot: true, matchBase: !threshold.glob.includes('/') }))
    const t = totals(mine)
    if (mine.length === 0) {
      const minimum = threshold.line ?? threshold.branch ?? 0
      return {
        threshold,
        totals: t,
        violations: [
          {
            metric: threshold.line !== undefined ? 'line' : 'branch',
            glob: threshold.glob,
            actual: undefined,
            minimum,
            message: `min-coverage ${threshold.glob} matches no file of the coverage reports (their paths are relative to the workspace)`
          }
        ]
      }
    }
    return { threshold, totals: t, violations: checkThresholds(t, threshold, threshold.glob) }
  })
}

/** `min-patch-coverage` against the changed lines. No coverable changed line meets any minimum. */
export function checkPatchThreshold(patch: PatchCoverage, minimum: number | undefined): Violation[] {
  if (minimum === undefined || patch.lines.found === 0) return []
  if ((patch.lines.hit / patch.lines.found) * 100 >= minimum) return []
  return [
    {
      metric: 'patch',
      actual: percent(patch.lines),
      minimum,
      message: `patch coverage is ${percent(patch.lines)}% (${patch.lines.hit} of ${patch.lines.found} changed lines), below min-patch-coverage ${minimum}%`
    }
  ]
}

/** One percentage (`min-patch-coverage`), or a problem message. */
export function parsePercent(text: string, what: string): number | undefined | string {
  const t = text.trim().replace(/%$/, '')
  if (t === '') return undefined
  if (!/^\d+(\.\d+)?$/.test(t)) return `${JSON.stringify(text.trim())} is not a percentage`
  const n = Number(t)
  if (n > 100) return `${what} ${n}% can never be reached; use a percentage from 0 to 100`
  return n
}

/** Every threshold that the totals miss, each with the figure and the threshold. */
export function checkThresholds(t: CoverageTotals, min: MinCoverage, glob?: string): Violation[] {
  const out: Violation[] = []
  // The files under a path glob are named in the message, and so is the glob's line of min-coverage.
  const what = (metric: string) => `${metric} coverage${glob ? ` of ${glob}` : ''}`
  const bar = (minimum: number) => `min-coverage ${glob ? `${glob}: ` : ''}${minimum}%`
  const check = (metric: 'line' | 'branch', counter: Counter, unit: string, minimum: number | undefined): void => {
    if (minimum === undefined) return
    const actual = percent(counter)
    const scope = glob ? { glob } : {}
    if (actual === undefined) {
      out.push({
        metric,
        ...scope,
        actual,
        minimum,
        message: `${what(metric)} cannot be measured (the reports list no coverable ${unit}), so it cannot meet ${bar(minimum)}`
      })
    } else if ((counter.hit / counter.found) * 100 < minimum) {
      out.push({
        metric,
        ...scope,
        actual,
        minimum,
        message: `${what(metric)} is ${actual}% (${counter.hit} of ${counter.found} ${unit}), below ${bar(minimum)}`
      })
    }
  }
  check('line', t.lines, 'lines', min.line)
  check('branch', t.branches, 'branches', min.branch)
  return out
}
