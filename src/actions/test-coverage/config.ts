import type { Inputs } from '../../runtime/index.js'
import { parsePercent, parseThresholds } from '../../coverage/thresholds.js'
import { COMMENT_LAYOUTS, MODES, PRESETS, type BaseCoverage, type Config } from '../../coverage/types.js'

export { PRESETS, type BaseCoverage, type Config, type Preset } from '../../coverage/types.js'

export function parseConfig(inputs: Inputs): Config {
  const mode = inputs.enum('mode', MODES) ?? 'test'
  const preset = inputs.enum('preset', PRESETS, { required: true }) ?? 'cargo'
  const workingDirectory = inputs.string('working-directory') || '.'
  const command = inputs.string('command') || undefined
  const coverageFiles = inputs.globs('coverage-files')
  const junitFiles = inputs.globs('junit-files')

  const minText = inputs.string('min-coverage')
  const min = parseThresholds(minText)
  if (typeof min === 'string') inputs.problem('min-coverage', min)
  const minPatch = parsePercent(inputs.string('min-patch-coverage'), 'patch coverage')
  if (typeof minPatch === 'string') inputs.problem('min-patch-coverage', minPatch)
  const patchCoverage = inputs.boolean('patch-coverage')
  if (!patchCoverage && typeof minPatch === 'number')
    inputs.problem('min-patch-coverage', 'needs patch-coverage: true (patch coverage is what it checks)')
  const commentLayout = inputs.enum('comment-layout', COMMENT_LAYOUTS) ?? 'separate'
  const reportArtifact = inputs.string('report-artifact') || undefined
  if (reportArtifact !== undefined && !/^[^"\\:<>|*?\r\n/]+$/.test(reportArtifact))
    inputs.problem(
      'report-artifact',
      `${JSON.stringify(reportArtifact)} is not an artifact name (no " : < > | * ? / \\ or line breaks)`
    )
  const runIdText = inputs.string('run-id')
  const runId = runIdText === '' ? undefined : /^\d+$/.test(runIdText) ? Number(runIdText) : NaN
  if (Number.isNaN(runId))
    inputs.problem('run-id', `${JSON.stringify(runIdText)} is not a workflow run id (a number)`)
  const commentFile = inputs.string('comment-file') || undefined
  if (mode === 'comment') {
    if (!reportArtifact && !commentFile)
      inputs.problem(
        'report-artifact',
        'or comment-file is required with mode: comment (where the test job left its report)'
      )
    if (inputs.secret('github-token') === '')
      inputs.problem(
        'github-token',
        'is required with mode: comment (a token that may write pull request comments)'
      )
  } else if (commentFile) {
    inputs.problem(
      'comment-file',
      'is read by mode: comment only; the test job writes it (see the comment-file output)'
    )
  }

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

  if (mode === 'test' && preset === 'custom' && !command) {
    inputs.problem(
      'command',
      'is required with preset: custom (the command that runs the tests and writes coverage)'
    )
  }
  if (mode === 'test' && preset === 'custom' && coverageFiles.length === 0) {
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
    mode,
    preset,
    workingDirectory,
    command,
    coverageFiles,
    junitFiles,
    minCoverage: typeof min === 'string' ? { total: {}, paths: [] } : min,
    lint,
    comment: commentMode === 'auto' ? undefined : commentMode === 'true',
    githubToken,
    baseCoverage,
    baseSha,
    cache,
    timeoutMs,
    title,
    patchCoverage,
    minPatchCoverage: typeof minPatch === 'number' ? minPatch : undefined,
    commentLayout,
    reportArtifact,
    runId: Number.isNaN(runId) ? undefined : runId,
    commentFile
  }
}
