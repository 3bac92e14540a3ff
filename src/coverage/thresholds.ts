import { percent, type Counter, type CoverageTotals } from './model.js'

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

export interface Violation {
  metric: 'line' | 'branch'
  actual: number | undefined
  minimum: number
  message: string
}

/** Every threshold that the totals miss, each with the figure and the threshold. */
export function checkThresholds(t: CoverageTotals, min: MinCoverage): Violation[] {
  const out: Violation[] = []
  const check = (metric: 'line' | 'branch', counter: Counter, unit: string, minimum: number | undefined): void => {
    if (minimum === undefined) return
    const actual = percent(counter)
    if (actual === undefined) {
      out.push({
        metric,
        actual,
        minimum,
        message: `${metric} coverage cannot be measured (the reports list no coverable ${unit}), so it cannot meet min-coverage ${minimum}%`
      })
    } else if ((counter.hit / counter.found) * 100 < minimum) {
      out.push({
        metric,
        actual,
        minimum,
        message: `${metric} coverage is ${actual}% (${counter.hit} of ${counter.found} ${unit}), below min-coverage ${minimum}%`
      })
    }
  }
  check('line', t.lines, 'lines', min.line)
  check('branch', t.branches, 'branches', min.branch)
  return out
}
