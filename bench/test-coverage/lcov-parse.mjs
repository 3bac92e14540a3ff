#!/usr/bin/env node
// Benchmark: parsing a 100,000-line lcov file with the action's parser (src/coverage/parse/lcov.ts)
// against a naive reference parse measured in the same run (split into lines, one regex per line,
// the same totals). Writes bench/results/test-coverage.json and prints the ratio.
//   node bench/test-coverage/lcov-parse.mjs [--lines 100000] [--runs 7]
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
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
const targetLines = Number(args.lines ?? 100_000)
const runs = Number(args.runs ?? 7)

// Transpile src/ to build/bench (inside the repo so that node_modules resolves; build/ is ignored).
const out = join(root, 'build/bench')
const walk = dir =>
  readdirSync(dir).flatMap(n => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]))
for (const file of walk(join(root, 'src')).filter(f => f.endsWith('.ts'))) {
  const js = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
  }).outputText
  const dest = join(out, relative(root, file)).replace(/\.ts$/, '.js')
  mkdirSync(dirname(dest), { recursive: true })
  writeFileSync(dest, js)
}
writeFileSync(join(out, 'package.json'), '{"type":"module"}\n')
const { parseLcov } = await import(join(out, 'src/coverage/parse/lcov.js'))
const { totals } = await import(join(out, 'src/coverage/model.js'))
const { parseCoverage } = await import(join(out, 'src/coverage/detect.js'))
const { renderReport } = await import(join(out, 'src/coverage/markdown.js'))
const reportInput = files => ({
  title: 'bench',
  totals: totals(files),
  files,
  tests: undefined,
  delta: undefined,
  violations: [],
  lint: [],
  maxFiles: 300
})

// A deterministic report shaped like tarpaulin's and jest's: many files, DA, BRDA, FN/FNDA records.
function synthesise(lines) {
  let seed = 42
  const rand = n => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n)
  const out = []
  let file = 0
  while (out.length < lines) {
    out.push('TN:', `SF:/work/project/src/module_${file}/file_${file}.rs`)
    const fns = 3 + rand(8)
    for (let f = 0; f < fns; f++) out.push(`FN:${10 + f * 20},function_${file}_${f}`)
    for (let f = 0; f < fns; f++) out.push(`FNDA:${rand(3) === 0 ? 0 : rand(50)},function_${file}_${f}`)
    out.push(`FNF:${fns}`)
    const n = 60 + rand(240)
    for (let l = 1; l <= n; l++) {
      out.push(`DA:${l},${rand(4) === 0 ? 0 : rand(1000)}`)
      if (rand(10) === 0)
        out.push(`BRDA:${l},0,0,${rand(3) === 0 ? '-' : rand(9)}`, `BRDA:${l},0,1,${rand(2)}`)
    }
    out.push('end_of_record')
    file++
  }
  return out.join('\n') + '\n'
}

// The reference: what a first attempt looks like, one regex per line and objects per record.
function naiveParse(text) {
  const files = []
  let cur
  for (const line of text.split('\n')) {
    let m
    if ((m = /^SF:(.*)$/.exec(line)))
      cur = { path: m[1], lines: new Map(), branches: new Map(), fns: new Map() }
    else if ((m = /^DA:(\d+),(\d+)/.exec(line))) cur.lines.set(+m[1], (cur.lines.get(+m[1]) ?? 0) + +m[2])
    else if ((m = /^BRDA:(\d+),([^,]+),([^,]+),(-|\d+)$/.exec(line)))
      cur.branches.set(`${m[1]}:${m[2]}:${m[3]}`, m[4] === '-' ? 0 : +m[4])
    else if ((m = /^FNDA:(\d+),(.*)$/.exec(line))) cur.fns.set(m[2], +m[1])
    else if (line === 'end_of_record') files.push(cur)
  }
  const count = map =>
    [...map.values()].reduce((c, h) => ({ hit: c.hit + (h > 0 ? 1 : 0), found: c.found + 1 }), {
      hit: 0,
      found: 0
    })
  const sum = pick =>
    files.map(pick).reduce((a, c) => ({ hit: a.hit + c.hit, found: a.found + c.found }), { hit: 0, found: 0 })
  return {
    lines: sum(f => count(f.lines)),
    branches: sum(f => count(f.branches)),
    functions: sum(f => count(f.fns)),
    files: files.length
  }
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

const text = synthesise(targetLines)
const lineCount = text.split('\n').length - 1
const ours = totals(parseLcov(text, 'bench.info').files)
const reference = naiveParse(text)
if (JSON.stringify(ours) !== JSON.stringify(reference)) {
  console.error('the parsers disagree:', JSON.stringify({ ours, reference }))
  process.exit(1)
}

const [oursTime, baseTime, wholeTime] = timeInTurns([
  () => parseLcov(text, 'bench.info'),
  () => naiveParse(text),
  () => renderReport(reportInput(parseCoverage(text, 'bench.info').files))
])
const ratio = baseTime.median / oursTime.median
const result = {
  benchmark: 'lcov parse',
  lines: lineCount,
  bytes: Buffer.byteLength(text),
  files: ours.files,
  runs,
  node: process.version,
  ours_ms: round(oursTime),
  baseline: 'naive reference parse (split + regex per line), same input, same totals',
  baseline_ms: round(baseTime),
  speedup_vs_baseline: Number(ratio.toFixed(2)),
  lines_per_second: Math.round(lineCount / (oursTime.median / 1000)),
  detect_parse_and_render_ms: round(wholeTime),
  measured_at: new Date().toISOString()
}
mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/test-coverage.json'), JSON.stringify(result, null, 2) + '\n')
console.log(
  `lcov parse: ${lineCount} lines (${(result.bytes / 1e6).toFixed(1)} MB, ${ours.files} files): ours ${result.ours_ms.median} ms, ` +
    `naive reference ${result.baseline_ms.median} ms: ${result.speedup_vs_baseline}x the baseline's speed (median of ${runs}); ` +
    `detect + parse + markdown report: ${result.detect_parse_and_render_ms.median} ms`
)

function round(t) {
  return { median: Number(t.median.toFixed(2)), min: Number(t.min.toFixed(2)), max: Number(t.max.toFixed(2)) }
}
