/** The test-coverage action's typed inputs, as the orchestrator (run.ts) and the comment mode read them. */
import type { Thresholds } from './thresholds.js'

export const PRESETS = ['cargo', 'npm', 'custom'] as const
export type Preset = (typeof PRESETS)[number]

/** Where the delta's base report comes from, and where this run's report is stored for later runs. */
export type BaseCoverage = { kind: 'none' } | { kind: 'cache' } | { kind: 'path'; path: string }

export const MODES = ['test', 'comment'] as const
/** test: run the tests and report; comment: post a report a test job left (fork pull requests). */
export type Mode = (typeof MODES)[number]

export const COMMENT_LAYOUTS = ['separate', 'sections'] as const
/** separate: one sticky comment per workflow, job and title; sections: one per workflow, a section per title. */
export type CommentLayout = (typeof COMMENT_LAYOUTS)[number]

export interface Config {
  mode: Mode
  preset: Preset
  workingDirectory: string
  /** Replaces the preset's test command; run by bash, like a workflow `run:` step. */
  command: string | undefined
  coverageFiles: string[]
  junitFiles: string[]
  minCoverage: Thresholds
  lint: boolean
  /** undefined: on for pull_request events only. */
  comment: boolean | undefined
  githubToken: string
  baseCoverage: BaseCoverage
  baseSha: string | undefined
  cache: boolean
  timeoutMs: number
  title: string
  /** Coverage of the lines the change adds, from git. */
  patchCoverage: boolean
  minPatchCoverage: number | undefined
  commentLayout: CommentLayout
  /** Test mode: upload the comment for a later `mode: comment` job; comment mode: download it. */
  reportArtifact: string | undefined
  /** Comment mode: the run whose artifact holds the report (the workflow_run event's run). */
  runId: number | undefined
  /** Comment mode: a comment file already downloaded, instead of report-artifact. */
  commentFile: string | undefined
}

