/**
 * Reads a builder's progress output for a person: which step failed and its last lines, and how
 * many steps came from the cache. Only explanations come from here; the digest never does.
 */

export interface FailedStep {
  /** `[linux/arm64 2/3] RUN make` or `RUN make`. */
  step: string
  /** The last lines the step printed, then the builder's error line. */
  lines: string[]
  error: string
}

export interface CacheUse {
  steps: number
  cached: number
}

const BUILDX_LINE = /^#(\d+) (.*)$/
const BUILDX_TIMED = /^\d+\.\d+ (.*)$/

/** The failing step of a `--progress plain` buildx run, if the output names one. */
export function buildxFailedStep(output: string, maxLines = 15): FailedStep | undefined {
  const titles = new Map<string, string>()
  const logs = new Map<string, string[]>()
  let failed: { id: string; error: string } | undefined
  for (const line of output.split(/\r?\n/)) {
    const m = BUILDX_LINE.exec(line)
    if (!m) continue
    const [, id, rest] = m as unknown as [string, string, string]
    if (!titles.has(id) && rest.startsWith('[')) titles.set(id, rest)
    else if (rest.startsWith('ERROR: ')) failed ??= { id, error: rest.slice('ERROR: '.length) }
    else {
      const timed = BUILDX_TIMED.exec(rest)
      if (timed) logs.set(id, [...(logs.get(id) ?? []), timed[1]!])
    }
  }
  if (failed) {
    return {
      step: titles.get(failed.id) ?? `step #${failed.id}`,
      lines: (logs.get(failed.id) ?? []).slice(-maxLines),
      error: failed.error
    }
  }
  const final = output
    .split(/\r?\n/)
    .reverse()
    .find(l => /^(ERROR|error):? /.test(l))
  return final ? { step: 'build', lines: [], error: final.replace(/^(ERROR|error):? /, '') } : undefined
}

export function buildxCacheUse(output: string): CacheUse {
  const steps = new Set<string>()
  const cached = new Set<string>()
  for (const line of output.split(/\r?\n/)) {
    const m = BUILDX_LINE.exec(line)
    if (!m) continue
    const [, id, rest] = m as unknown as [string, string, string]
    // FROM is left out: when every later step is cached BuildKit does not even report it as cached.
    if (/^\[(?!internal\]|auth\])[^\]]*\d+\/\d+\] (?!FROM )/.test(rest)) steps.add(id)
    else if (rest === 'CACHED') cached.add(id)
  }
  return { steps: steps.size, cached: [...cached].filter(id => steps.has(id)).length }
}

// `[linux/arm64] STEP 2/3: RUN x` with several platforms, `[2/2] STEP 7/7: ...` in a multi-stage build.
const BUILDAH_STEP = /^(?:\[([a-z0-9]+\/[^\]]*[a-z][^\]]*)\] )?(?:\[(\d+\/\d+)\] )?STEP (\d+\/\d+): (.*)$/

/** The failing step of a buildah build: `Error: building at STEP "RUN x": ...`. */
export function buildahFailedStep(output: string, maxLines = 15): FailedStep | undefined {
  const lines = output.split(/\r?\n/)
  const errorIndex = lines.findIndex(l => /building at STEP/.test(l))
  if (errorIndex < 0) {
    const final = [...lines].reverse().find(l => /^Error: /.test(l))
    return final ? { step: 'build', lines: [], error: final.replace(/^Error: /, '') } : undefined
  }
  const error = lines[errorIndex]!.replace(/^(?:\[[^\]]+\] )?(?:Error|error): /, '').replace(/^\s*\* /, '')
  // The step text may itself contain quotes: it runs up to the last `": `.
  const quoted = /building at STEP "(.*)": /.exec(error)?.[1]
  let start = -1
  for (let i = errorIndex - 1; i >= 0; i--) {
    const m = BUILDAH_STEP.exec(lines[i]!)
    if (m && (quoted === undefined || m[4] === quoted)) {
      start = i
      break
    }
  }
  if (start < 0) return { step: quoted ?? 'build', lines: [], error }
  const m = BUILDAH_STEP.exec(lines[start]!)!
  const where = [m[1], m[2] ? `stage ${m[2]}` : undefined, m[2] ? `step ${m[3]}` : m[3]]
    .filter(Boolean)
    .join(' ')
  const step = `[${where}] ${m[4]}`
  const body = lines
    .slice(start + 1, errorIndex)
    .filter(
      l =>
        !BUILDAH_STEP.test(l) && l.trim() !== '' && !/^(?:\[[^\]]+\] )?(?:time=|level=|Error: |-->)/.test(l)
    )
  return { step, lines: body.slice(-maxLines), error }
}

export function buildahCacheUse(output: string): CacheUse {
  let steps = 0
  let cached = 0
  for (const line of output.split(/\r?\n/)) {
    const m = BUILDAH_STEP.exec(line)
    if (m && !/^FROM /i.test(m[4]!)) steps++
    else if (/^(?:\[[^\]]+\] )?--> Using cache /.test(line)) cached++
  }
  return { steps, cached: Math.min(cached, steps) }
}
