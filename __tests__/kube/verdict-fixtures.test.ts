// The pure status viewers, doom verdicts and rollback plans on objects captured from the test bed
// (testbed/capture-fixtures.sh): what the API server really returns at each moment of a rollout.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { doomedPodReason, lastProgressAt, notReady } from '../../src/kube/doom.js'
import type { Deployment, KubeEvent, KubeObject, Pod, ReplicaSet } from '../../src/kube/objects.js'
import { deploymentRollbackPlan } from '../../src/kube/rollback.js'
import { rolloutStatus } from '../../src/kube/status.js'
import { newPodsOf, newReplicaSetOf, podEvidence, waitVerdict } from '../../src/kube/verdict.js'
import { REPO_ROOT } from '../harness/runner.js'

const dir = join(REPO_ROOT, '__tests__/fixtures/kube')
function fixture<T = KubeObject>(name: string): T {
  return JSON.parse(readFileSync(join(dir, name), 'utf8')) as T
}
/** `kubectl get -o json` lists carry no kind on their items; the informer sets it, so do we. */
function items<T extends KubeObject>(name: string, kind: string): T[] {
  return fixture<{ items: T[] }>(name).items.map(i => ({ ...i, kind }))
}
const policy = { notReadyGraceMs: 120_000, oomRestarts: 2 }
const createdAt = (p: Pod) => Date.parse(p.metadata!.creationTimestamp!)

describe('status viewers on captured objects', () => {
  it.each([
    ['deployment-complete.json', true, /^deployment "web" successfully rolled out$/],
    ['deployment-updated-complete.json', true, /successfully rolled out/],
    ['deployment-progressing.json', false, /^Waiting for deployment "web" rollout to finish: /],
    ['statefulset-complete.json', true, /roll(ed)? ?out complete|rolling update complete/],
    ['statefulset-updated-complete.json', true, /complete/],
    ['statefulset-rolling.json', false, /^Waiting for|^waiting for/],
    ['daemonset-complete.json', true, /^daemon set "agent" successfully rolled out$/],
    ['daemonset-updated-complete.json', true, /successfully rolled out/],
    ['daemonset-rolling.json', false, /^Waiting for daemon set "agent" rollout to finish/]
  ])('%s: done=%s', (file, done, message) => {
    const s = rolloutStatus(fixture(file))
    expect(s.done).toBe(done)
    expect(s.error).toBeUndefined()
    expect(s.message).toMatch(message)
  })

  it('deployment-progress-deadline-exceeded.json is an error', () => {
    expect(rolloutStatus(fixture('deployment-progress-deadline-exceeded.json')).error).toBe(
      'deployment "stuck" exceeded its progress deadline'
    )
  })

  it('deployment-paused.json is an error, not a wait', () => {
    expect(rolloutStatus(fixture('deployment-paused.json')).error).toMatch(/deployment "paused" is paused/)
  })
})

describe('doomed pods on captured objects', () => {
  it.each([
    ['pod-crashloop.json', 'CrashLoopBackOff'],
    ['pod-err-image-pull.json', 'ErrImagePull'],
    ['pod-image-pull-backoff.json', 'ImagePullBackOff']
  ])('%s is doomed: %s', (file, reason) => {
    const pod = fixture<Pod>(file)
    expect(doomedPodReason(pod, policy, createdAt(pod) + 1000)).toMatchObject({
      pod: pod.metadata!.name,
      reason
    })
  })

  it.each(['pod-never-ready.json', 'pod-running-not-ready.json'])(
    '%s is doomed only after the grace period without progress',
    file => {
      const pod = fixture<Pod>(file)
      // Its last progress is the container start, a second after its creation.
      expect(lastProgressAt(pod)).toBeGreaterThan(createdAt(pod))
      expect(doomedPodReason(pod, policy, createdAt(pod) + 121_000)).toBeUndefined()
      expect(doomedPodReason(pod, policy, lastProgressAt(pod) + 121_000)).toMatchObject({
        reason: 'NotReady'
      })
    }
  )

  it('pod-ready.json is never doomed', () => {
    const pod = fixture<Pod>('pod-ready.json')
    expect(doomedPodReason(pod, policy, createdAt(pod) + 3_600_000)).toBeUndefined()
  })
})

describe('new revision and verdict on captured objects', () => {
  it('finds the new ReplicaSet of a progressing Deployment and only its pods', () => {
    const d = fixture<Deployment>('deployment-progressing.json')
    const rs = items<ReplicaSet>('replicasets-progressing.json', 'ReplicaSet')
    const newRs = newReplicaSetOf(d, rs)
    expect(newRs?.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe(
      d.metadata?.annotations?.['deployment.kubernetes.io/revision']
    )
    const notReady = fixture<Pod>('pod-running-not-ready.json')
    const ready = fixture<Pod>('pod-ready.json')
    const { pods } = newPodsOf(d, rs, [notReady, ready])
    expect(pods.map(p => p.metadata?.name)).toEqual([notReady.metadata?.name])
  })

  it('fails a crash-looping Deployment from its new pod, long before the deadline', () => {
    const d = fixture<Deployment>('deployment-crashloop.json')
    const rs = items<ReplicaSet>('replicasets-crashloop.json', 'ReplicaSet')
    const pod = fixture<Pod>('pod-crashloop.json')
    const v = waitVerdict({ workload: d, replicaSets: rs, pods: [pod] }, policy, 0, createdAt(pod) + 1000)
    expect(v.state).toBe('failed')
    expect(v.reason).toMatch(new RegExp(`^pod ${pod.metadata!.name} is doomed: CrashLoopBackOff`))
    // With one doomed pod tolerated, the same moment is still a wait.
    expect(
      waitVerdict({ workload: d, replicaSets: rs, pods: [pod] }, policy, 1, createdAt(pod) + 1000).state
    ).toBe('waiting')
  })

  it('plans the rollback of the crash-looping Deployment to revision 1', () => {
    const d = fixture<Deployment>('deployment-crashloop.json')
    const plan = deploymentRollbackPlan(d, items<ReplicaSet>('replicasets-crashloop.json', 'ReplicaSet'))
    expect(plan).toMatchObject({ kind: 'patch', revision: 1 })
    const template = (plan as { patch: { value: { metadata: { labels: Record<string, string> } } }[] })
      .patch[0]!.value
    expect(template.metadata.labels).not.toHaveProperty('pod-template-hash')
    expect(template.metadata.labels['testbed/behavior']).toBe('ready')
  })

  it('refuses to roll back the paused Deployment', () => {
    const plan = deploymentRollbackPlan(
      fixture('deployment-paused.json'),
      items<ReplicaSet>('replicasets-paused.json', 'ReplicaSet')
    )
    expect(plan.kind).toBe('impossible')
  })
})

describe('slow but healthy pods captured on the real node, 150 s in (past doom-grace)', () => {
  const slow = (file: string) => {
    const f = JSON.parse(readFileSync(join(REPO_ROOT, '__tests__/fixtures/kube/slow', file), 'utf8')) as {
      pod: Pod
      events: KubeEvent[]
      capturedAt: string
    }
    const evidence = podEvidence({ events: f.events })(f.pod)
    return { ...f, evidence, at: Date.parse(f.capturedAt) }
  }
  it.each([
    ['pull.json', /^pulling an image \(Pulling image "127\.0\.0\.1:\d+\/testbed\/busybox:slow-/],
    ['init.json', /^init container migrate running since /],
    ['startup.json', /^container main is inside its startup probe's budget \(300s from /],
    ['scale-up.json', /^a node is being added for it \(TriggeredScaleUp: pod triggered scale-up/],
    ['gate.json', /^waiting for its readiness gate e2e\.example\.com\/load-balancer-ready/]
  ])('%s is moving, not doomed', (file, why) => {
    const { pod, evidence, at } = slow(file)
    // Created more than doom-grace ago: the old rule (not Ready 120 s after creation) doomed it.
    expect(at - createdAt(pod)).toBeGreaterThan(policy.notReadyGraceMs)
    const state = notReady(pod, at, evidence)
    expect(state.state).toBe('busy')
    expect(state.state === 'busy' && state.why).toMatch(why)
    expect(doomedPodReason(pod, policy, at, evidence)).toBeUndefined()
  })
  it('a startup probe protects only within its budget; the others are bounded by the progress deadline, not by doom-grace', () => {
    const later = (file: string) => {
      const { pod, evidence, at } = slow(file)
      return doomedPodReason(pod, policy, at + 10 * 60_000, evidence)
    }
    expect(later('startup.json')).toMatchObject({ reason: 'NotReady' })
    for (const file of ['pull.json', 'init.json', 'scale-up.json', 'gate.json'])
      expect(later(file)).toBeUndefined()
  })
})
