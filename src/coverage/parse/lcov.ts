import { ReportError } from '../errors.js'
import { countersFromHits, emptyCounter, type CoverageReport, type FileCoverage } from '../model.js'

/**
 * lcov tracefiles (geninfo format; what tarpaulin, cargo-llvm-cov, c8, jest, node --test and grcov
 * write). Counters come from the DA/BRDA/FNDA records when present, else from the LF/LH, BRF/BRH
 * and FNF/FNH summaries. Several records of one file (`lcov -a`, grcov's one section per test) are
 * combined as lcov combines them: hits added line by line, branch by branch, function by function.
 * As lcov does, `#` comment lines (jacoco2lcov) and line 0 (grcov) are skipped, and so are unknown
 * record types; a known record with bad fields, a record outside SF..end_of_record, or a truncated
 * file is an error.
 */
export function parseLcov(text: string, source: string): CoverageReport {
  const byPath = new Map<string, Building>()
  let current: Building | undefined
  let lineNo = 0
  let start = 0
  const fail = (message: string): never => {
    throw new ReportError(source, lineNo, message)
  }
  const need = (key: string): Building => current ?? fail(`${key} record outside an SF ... end_of_record block`)

  while (start <= text.length) {
    let end = text.indexOf('\n', start)
    if (end === -1) end = text.length
    const from = start
    start = end + 1
    lineNo++
    const to = text.charCodeAt(end - 1) === 13 ? end - 1 : end
    // Hot path: DA:<line>,<hits> is most of any tracefile; read in place, without allocations.
    if (current && text.charCodeAt(from) === 68 && text.charCodeAt(from + 1) === 65 && text.charCodeAt(from + 2) === 58) {
      const comma = text.indexOf(',', from + 3)
      if (comma !== -1 && comma < to) {
        const next = text.indexOf(',', comma + 1)
        const ln = digits(text, from + 3, comma)
        const hits = digits(text, comma + 1, next !== -1 && next < to ? next : to)
        if (ln > 0 && hits >= 0) {
          current.lineHits.set(ln, (current.lineHits.get(ln) ?? 0) + hits)
          continue
        }
      }
    }
    const line = text.slice(from, to)
    if (line.length === 0 || line.trim() === '') {
      if (end === text.length) break
      continue
    }
    if (line === 'end_of_record') {
      need('end_of_record')
      current = undefined
      continue
    }
    if (line.startsWith('#')) continue
    const colon = line.indexOf(':')
    if (colon <= 0) fail(`${JSON.stringify(clip(line))} is not an lcov record (KEY:value)`)
    const key = line.slice(0, colon)
    const value = line.slice(colon + 1)
    switch (key) {
      case 'TN':
      case 'VER':
        break
      case 'SF':
        if (current) fail(`SF:${value} starts a new file before end_of_record of ${current.path}`)
        if (value.trim() === '') fail('SF record has no file name')
        current = byPath.get(value.trim()) ?? newBuilding(value.trim())
        byPath.set(current.path, current)
        break
      case 'DA': {
        const b = need(key)
        const parts = value.split(',')
        const ln = int(parts[0])
        const hits = count(parts[1])
        if (parts.length < 2 || ln === undefined || ln < 0 || hits === undefined)
          fail(`DA:${clip(value)} is not "line,hits"`)
        if (ln === 0) break // grcov's line 0: no source line, lcov skips it
        b.lineHits.set(ln!, (b.lineHits.get(ln!) ?? 0) + hits!)
        break
      }
      case 'BRDA': {
        const b = need(key)
        const parts = value.split(',')
        const ln = int(parts[0])
        const taken = parts[3] === '-' ? 0 : count(parts[3])
        if (parts.length !== 4 || ln === undefined || taken === undefined)
          fail(`BRDA:${clip(value)} is not "line,block,branch,taken"`)
        if (ln === 0) break
        const id = `${ln}:${parts[1]}:${parts[2]}`
        b.branchHits.set(id, (b.branchHits.get(id) ?? 0) + taken!)
        break
      }
      case 'FN': {
        // FN:line,name (lcov 1.x) or FN:start,end,name (lcov 2.x)
        const b = need(key)
        const parts = value.split(',')
        if (parts.length < 2 || int(parts[0]) === undefined) fail(`FN:${clip(value)} is not "line,name"`)
        const name = parts.length >= 3 && int(parts[1]) !== undefined ? parts.slice(2).join(',') : parts.slice(1).join(',')
        if (!b.functionHits.has(name)) b.functionHits.set(name, 0)
        break
      }
      case 'FNDA': {
        const b = need(key)
        const comma = value.indexOf(',')
        const hits = count(value.slice(0, comma))
        if (comma === -1 || hits === undefined) fail(`FNDA:${clip(value)} is not "hits,name"`)
        const name = value.slice(comma + 1)
        b.functionHits.set(name, (b.functionHits.get(name) ?? 0) + hits!)
        break
      }
      case 'LF':
      case 'LH':
      case 'BRF':
      case 'BRH':
      case 'FNF':
      case 'FNH': {
        const b = need(key)
        const n = count(value)
        if (n === undefined) fail(`${key}:${clip(value)} is not a count`)
        // Repeated records of one file each give their own summary: the largest stands for the file.
        b.summary[key] = Math.max(b.summary[key] ?? 0, n!)
        break
      }
      default:
        if (!/^[A-Z][A-Z_]*$/.test(key)) fail(`${JSON.stringify(clip(line))} is not an lcov record (KEY:value)`)
    }
  }
  if (current) throw new ReportError(source, lineNo, `file ends inside the record of ${current.path} (no end_of_record): truncated?`)
  return { format: 'lcov', source, files: [...byPath.values()].map(finish) }
}

interface Building {
  path: string
  lineHits: Map<number, number>
  branchHits: Map<string, number>
  functionHits: Map<string, number>
  summary: Partial<Record<'LF' | 'LH' | 'BRF' | 'BRH' | 'FNF' | 'FNH', number>>
}

function newBuilding(path: string): Building {
  return { path, lineHits: new Map(), branchHits: new Map(), functionHits: new Map(), summary: {} }
}

function finish(b: Building): FileCoverage {
  const s = b.summary
  const file: FileCoverage = {
    path: b.path,
    lines: { hit: s.LH ?? 0, found: s.LF ?? 0 },
    branches: { hit: s.BRH ?? 0, found: s.BRF ?? 0 },
    functions: emptyCounter()
  }
  if (b.lineHits.size > 0) file.lineHits = b.lineHits
  if (b.branchHits.size > 0) file.branchHits = b.branchHits
  if (b.functionHits.size > 0) {
    let hit = 0
    for (const h of b.functionHits.values()) if (h > 0) hit++
    file.functions = { hit, found: b.functionHits.size }
  } else {
    file.functions = { hit: s.FNH ?? 0, found: s.FNF ?? 0 }
  }
  return countersFromHits(file)
}

/** The non-negative integer in text[from, to), or -1 when it is not one (the caller then takes the slow path). */
function digits(text: string, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1
  let n = 0
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n
}

function int(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return undefined
  const n = Number(s)
  return Number.isInteger(n) ? n : undefined
}

/** A non-negative count; some tools write hit counts as floats or with a sign, or 2^64-ish. */
function count(s: string | undefined): number | undefined {
  if (s === undefined) return undefined
  const t = s.trim()
  if (t === '' || !/^\d+(\.\d+)?([eE]\+?\d+)?$/.test(t)) return undefined
  return Number(t)
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}
