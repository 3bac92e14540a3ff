import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseCoverage } from './detect.js'
import type { FileCoverage } from './model.js'
import { reportCache, restoreEntry, saveEntry } from './cache.js'
import type { StoredReport } from './store.js'

export type BaseSource = { kind: 'none' } | { kind: 'cache'; dir: string; job: string } | { kind: 'path'; path: string }

export type BaseResult = { found: true; sha: string; files: FileCoverage[]; from: string } | { found: false; note: string }

/**
 * Reads the base commit's stored report: never by running the base's tests. A directory holds
 * `<sha>.json` files; a file is a report of any supported format; the cache holds one entry per
 * job and commit. A missing base is a note for the summary, not an error.
 */
export async function loadBase(source: BaseSource, baseSha: string | undefined): Promise<BaseResult> {
  if (source.kind === 'none') return { found: false, note: 'base-coverage is none' }
  if (source.kind === 'path' && existsSync(source.path) && statSync(source.path).isFile()) {
    const report = parseCoverage(readFileSync(source.path, 'utf8'), source.path)
    const sha = (report as { sha?: string }).sha || baseSha || 'base'
    return { found: true, sha, files: report.files, from: source.path }
  }
  if (!baseSha) return { found: false, note: 'no base commit (neither a pull request, a push with a previous commit, nor base-sha)' }
  if (source.kind === 'path') {
    const file = join(source.path, `${baseSha}.json`)
    if (!existsSync(file)) return { found: false, note: `no stored report for base ${baseSha.slice(0, 7)} in ${source.path}` }
    return { found: true, sha: baseSha, files: parseCoverage(readFileSync(file, 'utf8'), file).files, from: file }
  }
  mkdirSync(source.dir, { recursive: true })
  const entry = reportCache(source.dir, source.job, baseSha)
  const hit = await restoreEntry(entry)
  const file = join(source.dir, `${baseSha}.json`)
  if (!hit || !existsSync(file)) return { found: false, note: `no cached report for base ${baseSha.slice(0, 7)}` }
  const files = parseCoverage(readFileSync(file, 'utf8'), file).files
  rmSync(file)
  return { found: true, sha: baseSha, files, from: `cache key ${hit}` }
}

/**
 * Stores this run's report for later deltas and returns its path. `scratch` is where it goes when
 * the source keeps nothing (none, or a base given as a single file).
 */
export async function storeCurrent(source: BaseSource, report: StoredReport, scratch: string): Promise<string> {
  const text = JSON.stringify(report, null, 1) + '\n'
  const dir = source.kind === 'cache' ? source.dir : source.kind === 'path' && !isFile(source.path) ? source.path : scratch
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${report.sha}.json`)
  writeFileSync(file, text)
  if (source.kind === 'cache') await saveEntry(reportCache(source.dir, source.job, report.sha))
  return file
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile()
}
