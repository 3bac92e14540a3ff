/** The rollout's config, adapters and result, shared by the phases of a release and their callers. */
import type { AppliedObject } from '../apply.js'
import type { KubeClient } from '../client.js'
import type { Diagnostics } from '../diagnostics.js'
import type { ImagePin } from '../images.js'
import type { WorkloadRef } from '../objects.js'
import type { RollbackPlan } from '../rollback.js'
import type { SmokeExpectation, SmokeResult } from '../smoke.js'
import type { Timeline } from '../timeline.js'
import type { WaitResult, WaitTarget } from '../wait.js'
import type { PruneReport } from './prune.js'
import type { RestoreReport } from './restore.js'
import type { ObjectWait } from './wait-objects.js'

export interface RolloutConfig {
  manifests: string[]
  namespace: string
  images: ImagePin[]
  workload: WorkloadRef | undefined
  timeoutMs: number
  fieldManager: string
  forceConflicts: boolean
  doom: { notReadyGraceMs: number; tolerance: number; oomRestarts: number; crashTolerance: number }
  logLines: number
  smoke: {
    urls: string[]
    expect: SmokeExpectation | undefined
    timeoutMs: number
    retries: number
    job: string
  }
  /** A readiness-rules file (readiness-rules.ts) for kinds that need their own rules; '' for the shipped ones. */
  readinessRules: string
  /** The ApplySet parent Secret's name ('' for none): members are labelled the ApplySet way. */
  applyset: string
  /** Delete, after a verified release, the members of an earlier release it no longer has. */
  prune: boolean
  rollback: boolean
}

export interface RolloutAdapters {
  client: KubeClient
  /** Base for relative manifest paths (the workspace). */
  cwd: string
  log: (line: string) => void
  warn?: (line: string) => void
  group?: <T>(name: string, fn: () => Promise<T>) => Promise<T>
  /**
   * Called once the release is validated and its workloads' revisions read, right before the first
   * change (the GitHub deployment record starts there). An error it throws is not caught.
   */
  beforeChange?: (workloads: readonly WorkloadOutcome[], images: Record<string, string>) => Promise<void>
}

export type RolloutResultKind = 'success' | 'rolled-back' | 'failed'

export interface WorkloadOutcome {
  target: WaitTarget
  action: AppliedObject['action'] | 'set image'
  previousRevision: string
  revision: string
  wait?: WaitResult
  rollback?: { plan: RollbackPlan; wait?: WaitResult; error?: string }
}

export interface RolloutResult {
  result: RolloutResultKind
  revision: string
  previousRevision: string
  rolledBack: boolean
  durationMs: number
  failureReason: string
  applied: { kind: string; namespace?: string; name: string; action: string; source: string }[]
  workloads: WorkloadOutcome[]
  timeline: Timeline
  diagnostics: Diagnostics[]
  /** The release's other objects (Jobs, CRDs, custom resources...), each judged by its kind's rules. */
  objects: ObjectWait[]
  /** What `prune` deleted (after a verified release), and what it could not. */
  prune?: PruneReport
  /** What the rollback restored, deleted and kept of the objects that are not workloads. */
  restore?: RestoreReport
  /** The release's smoke checks. */
  smoke: SmokeResult[]
  /** The smoke checks run again on the restored revision. */
  smokeAfterRollback: SmokeResult[]
  /** Epoch ms at which every workload's rollout was seen complete (for latency measurements). */
  completeAt?: number
  /** A message when the rollback itself failed: a person must act. */
  rollbackFailure?: string
  requests: number
  summary: string
}
