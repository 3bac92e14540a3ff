import type { Inputs } from '../../runtime/index.js'
import { parseMinCoverage, type MinCoverage } from '../../coverage/thresholds.js'

export const PRESETS = ['cargo', 'npm', 'custom'] as const
export type Preset = (typeof PRESETS)[number]

/** Where the delta's base report comes from, and where this run's report is stored for later runs. */
export type BaseCoverage = { kind: 'none' } | { kind: 'cache' } | { kind: 'path'; path: string }

export interface Config {
  preset: Preset
  workingDirectory: string
  /** Replaces the preset's test command; run by bash, like a workflow `run:` step. */
  command: string | undefined
  coverageFiles: string[]
  junitFiles: string[]
  minCoverage: MinCoverage
  lint: boolean
  /** undefined: on for pull_request events only. */
  comment: boolean | undefined
  githubToken: string
  baseCoverage: BaseCoverage
  baseSha: string | undefined
  cache: boolean
  timeoutMs: number
  title: string
}

export function parseConfig(inputs: Inputs): Config {
  const preset = inputs.enum('preset', PRESETS, { required: true }) ?? 'cargo'
  const workingDirectory = inputs.string('working-directory') || '.'
  const command = inputs.string('command') || undefined
  const coverageFiles = inputs.globs('coverage-files')
  const junitFiles = inputs.globs('junit-files')

  const minText = inputs.string('min-coverage')
  const min = parseMinCoverage(minText)
  if (typeof min === 'string') inputs.problem('min-coverage', min)

  const lint = inputs.boolean('lint')
  const commentMode = inputs.enum('comment', ['auto', 'true', 'false'] as const) ?? 'auto'
  const githubToken = inputs.secret('github-token')

  const baseText = inputs.string('base-coverage')
  const baseCoverage: BaseCoverage =
    baseText === '' || baseText === 'none' || baseText === 'false'
      ? { kind: 'none' }
      : baseText === 'cache'
        ? { kind: 'cache' }
        : { kind: 'path', path: baseText }

  const baseSha = inputs.string('base-sha') || undefined
  if (baseSha !== undefined && !/^[0-9a-f]{7,40}$/i.test(baseSha)) {
    inputs.problem('base-sha', `${JSON.stringify(baseSha)} is not a commit SHA (7 to 40 hex digits)`)
  }
  const cache = inputs.boolean('cache')
  const timeoutMs = inputs.duration('timeout', { min: 1000 }) ?? 30 * 60_000
  const title = inputs.string('title') || 'Test coverage'

  if (preset === 'custom' && !command) {
    inputs.problem(
      'command',
      'is required with preset: custom (the command that runs the tests and writes coverage)'
    )
  }
  if (preset === 'custom' && coverageFiles.length === 0) {
    inputs.problem(
      'coverage-files',
      'is required with preset: custom (globs of the reports your command writes)'
    )
  }
  if (preset === 'custom' && lint) {
    inputs.problem(
      'lint',
      'has no linters to run with preset: custom; run your linters in your command instead'
    )
  }
  if (commentMode === 'true' && githubToken === '') {
    inputs.problem(
      'github-token',
      'is empty but comment is true; pass ${{ github.token }} or a token that may write issues'
    )
  }

  return {
    preset,
    workingDirectory,
    command,
    coverageFiles,
    junitFiles,
    minCoverage: typeof min === 'string' ? {} : min,
    lint,
    comment: commentMode === 'auto' ? undefined : commentMode === 'true',
    githubToken,
    baseCoverage,
    baseSha,
    cache,
    timeoutMs,
    title
  }
}
