/**
 * The smoke test of a release: its URLs, and a smoke Job run in the cluster (created afresh, waited
 * for with the shared watch loop, its pods diagnosed when it fails).
 */
import type { V1Job } from '@kubernetes/client-node'
import { readFile } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import { formatDuration } from '../../runtime/index.js'
import type { KubeClient } from '../client.js'
import { KubeApiError, KubeClient as Client, describeApiError, sleep } from '../client.js'
import { diagnosticsLog, gatherDiagnostics } from '../diagnostics.js'
import { parseManifests } from '../manifests.js'
import type { KubeObject, Pod } from '../objects.js'
import type { SmokeResult } from '../smoke.js'
import { smokeUrl } from '../smoke.js'
import type { RolloutConfig } from './types.js'
import type { Decision, WaitForResult } from './wait-for.js'
import { waitFor } from './wait-for.js'

export interface SmokeJob {
  object: KubeObject
  source: string
  path: string
}

type SmokeConfig = Pick<RolloutConfig, 'smoke' | 'fieldManager' | 'logLines'>

/** The `smoke-job` file as one batch/v1 Job in the release's namespace, or what is wrong with it. */
export async function loadSmokeJob(
  file: string,
  cwd: string,
  namespace: string
): Promise<{ job?: SmokeJob; problems: string[] }> {
  const full = isAbsolute(file) ? file : resolve(cwd, file)
  let text: string
  try {
    text = await readFile(full, 'utf8')
  } catch {
    return { problems: [`smoke-job: cannot read ${file} (relative paths start at ${cwd})`] }
  }
  const parsed = parseManifests(text, file)
  if (parsed.problems.length)
    return { problems: parsed.problems.map(p => `smoke-job ${p.source.file}:${p.source.line}: ${p.message}`) }
  const jobs = parsed.manifests
  if (jobs.length !== 1 || jobs[0]!.object.kind !== 'Job' || jobs[0]!.object.apiVersion !== 'batch/v1') {
    return {
      problems: [
        `smoke-job ${file}: must hold exactly one batch/v1 Job (found ${jobs.map(j => j.object.kind).join(', ') || 'nothing'})`
      ]
    }
  }
  const object = jobs[0]!.object
  object.metadata!.namespace ??= namespace
  return {
    job: {
      object,
      source: file,
      path: `${Client.collectionPath('batch/v1', 'jobs', object.metadata!.namespace)}/${object.metadata!.name}`
    },
    problems: []
  }
}

/** The timeline outcome of a smoke test. */
export function smokeOutcome(results: SmokeResult[]): { outcome: 'ok' | 'failed'; detail?: string } {
  const bad = results.find(r => !r.ok)
  return bad
    ? { outcome: 'failed', detail: `${bad.url}: ${bad.problem}` }
    : { outcome: 'ok', detail: `${results.length} check${results.length === 1 ? '' : 's'} passed` }
}

/** Checks every smoke URL (concurrently), then runs the smoke Job. */
export async function runSmoke(
  client: KubeClient,
  config: SmokeConfig,
  job: SmokeJob | undefined,
  log: (l: string) => void
): Promise<SmokeResult[]> {
  const results = await Promise.all(
    config.smoke.urls.map(url =>
      smokeUrl(url, {
        expect: config.smoke.expect,
        timeoutMs: config.smoke.timeoutMs,
        retries: config.smoke.retries,
        log
      })
    )
  )
  for (const r of results)
    log(
      `smoke ${r.url}: ${r.ok ? 'ok' : `FAILED (${r.problem})`} after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`
    )
  if (job) results.push(await runSmokeJob(client, job, config, log))
  return results
}

async function runSmokeJob(
  client: KubeClient,
  job: SmokeJob,
  config: SmokeConfig,
  log: (l: string) => void
): Promise<SmokeResult> {
  const started = Date.now()
  const name = job.object.metadata!.name!
  const ns = job.object.metadata!.namespace!
  const label = `job/${name}`
  try {
    // Replace a Job left by an earlier run: Jobs cannot be re-run in place.
    if (await client.deleteObject(job.path)) {
      try {
        for (let i = 0; i < 120; i++) {
          await sleep(250)
          await client.request('GET', job.path)
        }
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 404)) throw err
      }
    }
    await client.request('POST', Client.collectionPath('batch/v1', 'jobs', ns), {
      query: { fieldManager: config.fieldManager },
      body: job.object,
      retryForMs: 30_000
    })
    log(`smoke ${label}: created`)
    const wait = await waitFor<V1Job>(client, {
      watch: { path: Client.collectionPath('batch/v1', 'jobs', ns), fieldSelector: `metadata.name=${name}` },
      decide: jobs => jobDecision(jobs.find(j => j.metadata?.name === name)),
      deadline: Date.now() + config.smoke.timeoutMs
    })
    const problem = jobProblem(wait, config.smoke.timeoutMs)
    if (problem) {
      const pods = await client.request<{ items?: Pod[] }>('GET', Client.collectionPath('v1', 'pods', ns), {
        query: { labelSelector: `job-name=${name}` }
      })
      const d = await gatherDiagnostics(client, {
        workload: job.object,
        pods: pods.items ?? [],
        doomed: [],
        reason: problem,
        logLines: config.logLines
      })
      for (const line of diagnosticsLog(d)) log(line)
    }
    log(`smoke ${label}: ${problem ? `FAILED (${problem})` : 'complete'}`)
    return { url: label, ok: !problem, attempts: 1, problem, durationMs: Date.now() - started }
  } catch (err) {
    const e = describeApiError(err, `running the smoke Job ${name}`)
    return { url: label, ok: false, attempts: 1, problem: e.describe(), durationMs: Date.now() - started }
  }
}

/** A Job is done when it completed (or met its success policy), failed when it failed or will. */
function jobDecision(job: V1Job | undefined): Decision<V1Job> {
  if (!job) return { state: 'pending' }
  const condition = (type: string) =>
    job.status?.conditions?.find(c => c.type === type && c.status === 'True')
  if (condition('Complete') ?? condition('SuccessCriteriaMet')) return { state: 'done', value: job }
  const failed = condition('Failed') ?? condition('FailureTarget')
  if (failed)
    return {
      state: 'failed',
      reason: `the Job failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim()
    }
  return { state: 'pending', value: job }
}

/** Why the smoke Job failed, or undefined when it completed. */
function jobProblem(
  wait: WaitForResult<V1Job, Record<never, never>, V1Job>,
  timeoutMs: number
): string | undefined {
  if (wait.end === 'timed out') return `the Job did not complete within ${formatDuration(timeoutMs)}`
  if (wait.end === 'watch failed') return wait.error.message
  return wait.decision?.state === 'failed' ? wait.decision.reason : undefined
}
