// The release's wait deadline starts when the apply ends, and validation has a budget of its own:
// rollout() in `workload` mode against a fake API client, on jest's fake clock (Date and timers),
// with the Deployment `web` as captured from the test bed.
import { jest } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { KubeClient, RequestOptions, WatchEvent } from '../../src/kube/client.js'
import type { KubeObject } from '../../src/kube/objects.js'
import { rollout } from '../../src/kube/release/rollout.js'
import type { RolloutConfig } from '../../src/kube/release/types.js'
import { REPO_ROOT } from '../harness/runner.js'

const MINUTE = 60_000
const read = (name: string): KubeObject =>
  JSON.parse(readFileSync(join(REPO_ROOT, '__tests__/fixtures/kube', name), 'utf8')) as KubeObject

/** An API server whose dry-run takes `validationMs` and whose rollout completes `rolloutMs` after the apply. */
function fakeApi(validationMs: number, rolloutMs: number): { client: KubeClient; sent: string[] } {
  let web = read('deployment-progressing.json')
  const watchers: ((event: WatchEvent) => void)[] = []
  const sent: string[] = []
  const list = (kind: string, items: KubeObject[]) => ({ kind, metadata: { resourceVersion: '1' }, items })
  const client = {
    defaultNamespace: 'default',
    requests: 0,
    async request(method: string, path: string, options: RequestOptions = {}) {
      const dryRun = Boolean(options.query?.dryRun)
      sent.push(`${method} ${path}${dryRun ? ' (dry-run)' : ''}`)
      if (method === 'PATCH' && dryRun) await new Promise(r => setTimeout(r, validationMs))
      else if (method === 'PATCH')
        setTimeout(() => {
          web = read('deployment-updated-complete.json')
          for (const onEvent of watchers) onEvent({ type: 'MODIFIED', object: web })
        }, rolloutMs)
      if (path.endsWith('/deployments/web')) return read('deployment-complete.json')
      return list(
        path.endsWith('/deployments') ? 'DeploymentList' : 'List',
        path.endsWith('/deployments') ? [web] : []
      )
    },
    watch(path: string, _query: unknown, onEvent: (event: WatchEvent) => void, signal: AbortSignal) {
      if (path.endsWith('/deployments')) watchers.push(onEvent)
      return new Promise<number>(resolve => signal.addEventListener('abort', () => resolve(0)))
    }
  }
  return { client: client as unknown as KubeClient, sent }
}

const config: RolloutConfig = {
  manifests: [],
  namespace: 'fixtures-24380',
  images: [{ container: 'web', image: 'registry.testbed.invalid/otlp-deploy/web:v2', byDigest: false }],
  workload: { kind: 'Deployment', name: 'web' },
  timeoutMs: 10 * MINUTE,
  fieldManager: 'otlp-deploy-actions',
  forceConflicts: false,
  doom: { notReadyGraceMs: 2 * MINUTE, tolerance: 0, oomRestarts: 2, crashTolerance: 0 },
  logLines: 20,
  smoke: { urls: [], expect: undefined, timeoutMs: MINUTE, retries: 5, job: '' },
  readinessRules: '',
  applyset: '',
  prune: false,
  rollback: true
}

beforeEach(() => jest.useFakeTimers())
afterEach(() => jest.useRealTimers())

it('gives the wait its whole timeout from the end of the apply, however long the validation took', async () => {
  const { client } = fakeApi(9 * MINUTE, 5 * MINUTE)
  const running = rollout(config, { client, cwd: REPO_ROOT, log: () => {} })
  await jest.advanceTimersByTimeAsync(20 * MINUTE)
  const r = await running
  const phase = (name: string) => r.timeline.entries.find(e => e.phase === name)!
  expect(r.result).toBe('success')
  expect(phase('validate').end - phase('validate').start).toBe(9 * MINUTE)
  // Complete 14 minutes in: a deadline counted from the start of the step would have failed it.
  expect(phase('rollout')).toMatchObject({ outcome: 'ok', end: phase('apply').end + 5 * MINUTE })
  expect(phase('rollout').end - r.timeline.origin).toBeGreaterThan(config.timeoutMs)
})

it('times the wait out a whole timeout after the apply, not earlier', async () => {
  const { client } = fakeApi(9 * MINUTE, 30 * MINUTE)
  const running = rollout({ ...config, rollback: false }, { client, cwd: REPO_ROOT, log: () => {} })
  await jest.advanceTimersByTimeAsync(30 * MINUTE)
  const r = await running
  const phase = (name: string) => r.timeline.entries.find(e => e.phase === name)!
  expect(r.result).toBe('failed')
  expect(r.failureReason).toMatch(/^deployment\/web: timed out waiting for deployment\/web/)
  expect(phase('rollout').end).toBe(phase('apply').end + config.timeoutMs)
})

it('fails a validation slower than its own budget before any change, as a validation failure', async () => {
  const { client, sent } = fakeApi(11 * MINUTE, 0)
  const running = rollout(config, { client, cwd: REPO_ROOT, log: () => {} })
  const failed = expect(running).rejects.toThrow(
    /^Validation failed, nothing was applied: it did not finish within 10m \(timeout\)$/
  )
  await jest.advanceTimersByTimeAsync(12 * MINUTE)
  await failed
  expect(sent.filter(s => s.startsWith('PATCH') && !s.endsWith('(dry-run)'))).toEqual([])
})
