#!/usr/bin/env node
// Benchmark: patch coverage on a 5,000-file lcov report with a 2,000-line diff, against parsing the
// report alone (the baseline every run pays anyway), in the same run. The diff comes from real git
// on a real repository of those 5,000 files (200 files changed, 10 added lines each, half of them
// named by the report with a shorter path, as JaCoCo and Go name files), read by the action's own
// changedLines(). Time: median of the runs, the contenders in turns. Peak memory: each contender
// alone in a fresh Node process (its maxRSS), so that one's garbage is not the other's.
// Writes bench/results/test-coverage-patch.json.
//   node bench/test-coverage/patch.mjs [--files 5000] [--changed 200] [--added 10] [--runs 7]
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { performance } from 'node:perf_hooks'
import ts from 'typescript'

const root = new URL('../..', import.meta.url).pathname
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map(a => a.trim().split(/\s+/))
)
const fileCount = Number(args.files ?? 5000)
const changedCount = Number(args.changed ?? 200)
const addedPerFile = Number(args.added ?? 10)
const runs = Number(args.runs ?? 7)
const linesPerFile = 120
const role = args.role // set in the child processes that measure memory

// Transpile src/ to build/bench (inside the repo so that node_modules resolves; build/ is ignored).
const out = join(root, 'build/bench')
if (!role) {
  const walk = dir =>
    readdirSync(dir).flatMap(n =>
      statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]
    )
  for (const file of walk(join(root, 'src')).filter(f => f.endsWith('.ts'))) {
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
    }).outputText
    const dest = join(out, relative(root, file)).replace(/\.ts$/, '.js')
    mkdirSync(dirname(dest), { recursive: true })
    writeFileSync(dest, js)
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n')
}
const { parseCoverage } = await import(join(out, 'src/coverage/detect.js'))
const { parseAddedLines } = await import(join(out, 'src/coverage/diff.js'))
const { patchCoverage } = await import(join(out, 'src/coverage/patch.js'))
const { renderPatch } = await import(join(out, 'src/coverage/markdown.js'))
const { changedLines } = await import(join(out, 'src/coverage/git.js'))

const sourceLine = (f, l) => `  let v${l} = ${f} + ${l} // line ${l}`
// The repository path of file i; every other changed file is named by the report without `service/`.
const repoPath = i => `service/src/mod_${i % 50}/file_${i}.rs`
const reportPath = i => (i % 2 === 0 ? repoPath(i) : `src/mod_${i % 50}/file_${i}.rs`)

function synthesiseReport() {
  let seed = 7
  const rand = n => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n)
  const out = []
  for (let i = 0; i < fileCount; i++) {
    out.push('TN:', `SF:${reportPath(i)}`)
    // A changed file's added lines (after line 60) are listed as coverable too.
    const n = linesPerFile + (i < changedCount ? addedPerFile : 0)
    for (let l = 1; l <= n; l++) out.push(`DA:${l},${rand(4) === 0 ? 0 : rand(100)}`)
    out.push('end_of_record')
  }
  return out.join('\n') + '\n'
}

/** A repository of the 5,000 files, then a commit adding lines to the first `changedCount`. */
function makeRepository() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-patch-'))
  const git = (...a) =>
    execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', ...a], { cwd: dir })
  git('init', '-q', '-b', 'main')
  for (let i = 0; i < fileCount; i++) {
    const p = join(dir, repoPath(i))
    mkdirSync(dirname(p), { recursive: true })
    writeFileSync(p, Array.from({ length: linesPerFile }, (_, l) => sourceLine(i, l + 1)).join('\n') + '\n')
  }
  git('add', '-A')
  git('commit', '-qm', 'base')
  const base = git('rev-parse', 'HEAD').toString().trim()
  for (let i = 0; i < changedCount; i++) {
    const p = join(dir, repoPath(i))
    const lines = readFileSync(p, 'utf8').trimEnd().split('\n')
    const added = Array.from({ length: addedPerFile }, (_, k) => `  let added${k} = ${k} // new`)
    lines.splice(60, 0, ...added)
    writeFileSync(p, lines.join('\n') + '\n')
  }
  git('commit', '-qam', 'change')
  return { dir, base }
}

if (role) {
  // A child measuring one contender's peak memory: parse alone, or parse + diff + patch + render.
  const text = readFileSync(args.report, 'utf8')
  const diff = readFileSync(args.diff, 'utf8')
  const files = parseCoverage(text, 'bench.info').files
  if (role === 'patch') {
    const added = parseAddedLines(diff)
    const changed = [...added].map(([p, lines]) => ({
      path: p.replace(/^service\//, ''),
      repoPath: p,
      added: lines
    }))
    const patch = patchCoverage(files, changed, { base: 'a'.repeat(40), head: 'b'.repeat(40) })
    renderPatch(patch, undefined, 300)
  }
  process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }))
  process.exit(0)
}

const text = synthesiseReport()
const repo = makeRepository()
try {
  // The real effect once: git diff of the repository, read by the action's changedLines().
  const t0 = performance.now()
  const real = await changedLines({ workspace: join(repo.dir, 'service'), base: repo.base })
  const gitMs = performance.now() - t0
  if (!real.ok) throw new Error(`changedLines failed: ${real.reason}`)
  const addedTotal = real.files.reduce((n, f) => n + f.added.length, 0)
  if (real.files.length !== changedCount || addedTotal !== changedCount * addedPerFile)
    throw new Error(
      `git gave ${real.files.length} files and ${addedTotal} lines, expected ${changedCount} and ${changedCount * addedPerFile}`
    )
  const diff = execFileSync('git', ['diff', '--no-color', '--unified=0', '-M', repo.base, 'HEAD'], {
    cwd: repo.dir,
    maxBuffer: 256 * 1024 * 1024
  }).toString()

  const parseOnly = () => parseCoverage(text, 'bench.info').files
  let lastPatch
  const withPatch = () => {
    const files = parseCoverage(text, 'bench.info').files
    const changed = [...parseAddedLines(diff)].map(([p, lines]) => ({
      path: p.replace(/^service\//, ''),
      repoPath: p,
      added: lines
    }))
    lastPatch = patchCoverage(files, changed, { base: real.mergeBase, head: real.head })
    return renderPatch(lastPatch, undefined, 300)
  }
  const [parseTime, patchTime] = timeInTurns([parseOnly, withPatch])
  // Every changed file matched (half by suffix) and every added line counted.
  if (lastPatch.files.length !== changedCount || lastPatch.lines.found !== changedCount * addedPerFile)
    throw new Error(`patch coverage matched ${lastPatch.files.length} files, ${lastPatch.lines.found} lines`)

  const scratch = mkdtempSync(join(tmpdir(), 'bench-patch-in-'))
  writeFileSync(join(scratch, 'report.info'), text)
  writeFileSync(join(scratch, 'change.diff'), diff)
  const memory = role => {
    const samples = Array.from(
      { length: 3 },
      () =>
        JSON.parse(
          execFileSync(process.execPath, [
            new URL(import.meta.url).pathname,
            '--role',
            role,
            '--report',
            join(scratch, 'report.info'),
            '--diff',
            join(scratch, 'change.diff')
          ]).toString()
        ).maxRssKiB
    ).sort((a, b) => a - b)
    return samples[1]
  }
  const parseRss = memory('parse')
  const patchRss = memory('patch')
  rmSync(scratch, { recursive: true, force: true })

  const result = {
    benchmark: 'patch coverage',
    report_files: fileCount,
    report_lines: fileCount * linesPerFile + changedCount * addedPerFile,
    report_bytes: Buffer.byteLength(text),
    diff_files: changedCount,
    diff_added_lines: changedCount * addedPerFile,
    runs,
    node: process.version,
    baseline: 'parsing the same lcov report alone (parseCoverage), same run, contenders in turns',
    parse_ms: round(parseTime),
    parse_and_patch_ms: round(patchTime),
    patch_extra_ms: Number((patchTime.median - parseTime.median).toFixed(2)),
    time_ratio_vs_parse: Number((patchTime.median / parseTime.median).toFixed(3)),
    git_changed_lines_ms: Number(gitMs.toFixed(1)),
    peak_rss_parse_mib: Number((parseRss / 1024).toFixed(1)),
    peak_rss_parse_and_patch_mib: Number((patchRss / 1024).toFixed(1)),
    memory_ratio_vs_parse: Number((patchRss / parseRss).toFixed(3)),
    measured_at: new Date().toISOString()
  }
  mkdirSync(join(root, 'bench/results'), { recursive: true })
  writeFileSync(join(root, 'bench/results/test-coverage-patch.json'), JSON.stringify(result, null, 2) + '\n')
  console.log(
    `patch coverage: ${fileCount}-file report (${(result.report_bytes / 1e6).toFixed(1)} MB), ${result.diff_added_lines} added lines in ${changedCount} files: ` +
      `parse ${result.parse_ms.median} ms, parse + patch ${result.parse_and_patch_ms.median} ms (${result.time_ratio_vs_parse}x); ` +
      `peak RSS ${result.peak_rss_parse_mib} MiB vs ${result.peak_rss_parse_and_patch_mib} MiB (${result.memory_ratio_vs_parse}x); git diff via changedLines ${result.git_changed_lines_ms} ms`
  )
} finally {
  rmSync(repo.dir, { recursive: true, force: true })
}

// The contenders run in turns, so that a noisy neighbour (2 shared cores) hurts both alike.
function timeInTurns(fns) {
  for (let i = 0; i < 2; i++) for (const fn of fns) fn()
  const times = fns.map(() => [])
  for (let i = 0; i < runs; i++) {
    fns.forEach((fn, k) => {
      const t0 = performance.now()
      fn()
      times[k].push(performance.now() - t0)
    })
  }
  return times.map(t => {
    t.sort((a, b) => a - b)
    return { median: t[Math.floor(t.length / 2)], min: t[0], max: t.at(-1) }
  })
}

function round(t) {
  return { median: Number(t.median.toFixed(2)), min: Number(t.min.toFixed(2)), max: Number(t.max.toFixed(2)) }
}
