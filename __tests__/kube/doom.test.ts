import { doomedPodReason, rolloutDoom } from '../../src/kube/doom.js'
import type { ContainerStatus, Pod } from '../../src/kube/objects.js'

const NOW = Date.parse('2026-01-01T00:10:00Z')
const policy = { notReadyGraceMs: 120_000, oomRestarts: 2 }

function pod(
  name: string,
  cs: Partial<ContainerStatus>,
  extra: Partial<Pod['status']> = {},
  createdSecondsAgo = 30
): Pod {
  return {
    kind: 'Pod',
    metadata: { name, creationTimestamp: new Date(NOW - createdSecondsAgo * 1000).toISOString() },
    status: {
      phase: 'Running',
      conditions: [
        {
          type: 'Ready',
          status: cs.ready ? 'True' : 'False',
          reason: 'ContainersNotReady',
          message: 'containers with unready status: [web]'
        }
      ],
      containerStatuses: [{ name: 'web', ready: false, restartCount: 0, ...cs }],
      ...extra
    }
  }
}

describe('doomedPodReason', () => {
  it.each([
    [
      'CrashLoopBackOff',
      {
        state: {
          waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container' }
        },
        lastState: { terminated: { exitCode: 1, reason: 'Error' } },
        restartCount: 3
      },
      'CrashLoopBackOff'
    ],
    [
      'ErrImagePull',
      { state: { waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } } },
      'ErrImagePull'
    ],
    ['ImagePullBackOff', { state: { waiting: { reason: 'ImagePullBackOff' } } }, 'ImagePullBackOff'],
    ['InvalidImageName', { state: { waiting: { reason: 'InvalidImageName' } } }, 'InvalidImageName'],
    [
      'CreateContainerConfigError',
      { state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "db" not found' } } },
      'CreateContainerConfigError'
    ],
    [
      'an OOM kill loop shown as CrashLoopBackOff',
      {
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } },
        restartCount: 1
      },
      'OOMKilled'
    ],
    [
      'repeated OOMKilled',
      {
        state: { running: {} },
        lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } },
        restartCount: 2
      },
      'OOMKilled'
    ],
    [
      'ContainerCannotRun (exit 127) in the last state',
      {
        state: { waiting: { reason: 'ContainerCreating' } },
        lastState: {
          terminated: { reason: 'ContainerCannotRun', exitCode: 127, message: 'exec: "/app": not found' }
        },
        restartCount: 1
      },
      'ContainerCannotRun'
    ],
    [
      'containerd StartError (exit 128) in the current state',
      {
        state: { terminated: { reason: 'StartError', exitCode: 128, message: 'exec format error' } },
        restartCount: 0
      },
      'StartError'
    ],
    ['RunContainerError', { state: { waiting: { reason: 'RunContainerError' } } }, 'RunContainerError'],
    ['ErrImageNeverPull', { state: { waiting: { reason: 'ErrImageNeverPull' } } }, 'ErrImageNeverPull']
  ] as [string, Partial<ContainerStatus>, string][])('%s dooms the pod', (_, cs, reason) => {
    expect(doomedPodReason(pod('p', cs), policy, NOW)).toMatchObject({ pod: 'p', container: 'web', reason })
  })

  it('names the message and the exit code of a crash loop', () => {
    const d = doomedPodReason(
      pod('p', {
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error' } },
        restartCount: 4
      }),
      policy,
      NOW
    )
    expect(d?.message).toBe('container web: back-off 20s; last exit code 1 (Error), 4 restarts')
  })

  it.each([
    [
      'a single OOM kill (may be a spike)',
      { state: { running: {} }, lastState: { terminated: { reason: 'OOMKilled' } }, restartCount: 1 }
    ],
    ['ContainerCreating', { state: { waiting: { reason: 'ContainerCreating' } } }],
    ['running, not ready, within the grace period', { state: { running: {} } }],
    ['ready', { state: { running: {} }, ready: true }],
    [
      'Ready again after two OOM kills',
      {
        state: { running: {} },
        lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } },
        restartCount: 2,
        ready: true
      }
    ]
  ] as [string, Partial<ContainerStatus>][])('%s is not doomed', (_, cs) => {
    expect(doomedPodReason(pod('p', cs), policy, NOW)).toBeUndefined()
  })

  it('dooms a pod not Ready past the grace period, saying why', () => {
    const d = doomedPodReason(pod('p', { state: { running: {} } }, {}, 200), policy, NOW)
    expect(d).toMatchObject({ reason: 'NotReady' })
    expect(d?.message).toMatch(/not Ready 200s after creation \(grace 120s\): containers with unready status/)
  })

  it('dooms a failed pod and ignores a terminating one', () => {
    expect(
      doomedPodReason(
        pod('p', {}, { phase: 'Failed', reason: 'Evicted', message: 'low on memory' }),
        policy,
        NOW
      )
    ).toMatchObject({ reason: 'Evicted' })
    const terminating = pod('p', { state: { waiting: { reason: 'CrashLoopBackOff' } } })
    terminating.metadata!.deletionTimestamp = '2026-01-01T00:09:59Z'
    expect(doomedPodReason(terminating, policy, NOW)).toBeUndefined()
  })

  it('looks at init containers too', () => {
    const p = pod(
      'p',
      { state: { waiting: { reason: 'PodInitializing' } } },
      {
        initContainerStatuses: [
          { name: 'migrate', state: { waiting: { reason: 'CrashLoopBackOff' } }, restartCount: 2 }
        ]
      }
    )
    expect(doomedPodReason(p, policy, NOW)).toMatchObject({
      container: 'migrate',
      reason: 'CrashLoopBackOff',
      message: expect.stringMatching(/^init container migrate/)
    })
  })
})

describe('rolloutDoom', () => {
  const crash = (n: string) => pod(n, { state: { waiting: { reason: 'CrashLoopBackOff' } }, restartCount: 2 })
  const fine = (n: string) => pod(n, { state: { running: {} }, ready: true })

  it('fails on the first doomed pod with no tolerance', () => {
    expect(rolloutDoom([fine('a'), crash('b'), fine('c')], policy, 0, NOW)).toMatchObject({
      failed: true,
      doomed: [{ pod: 'b' }]
    })
  })

  it('tolerates as many doomed pods as configured', () => {
    expect(rolloutDoom([fine('a'), crash('b'), fine('c')], policy, 1, NOW).failed).toBe(false)
    expect(rolloutDoom([crash('a'), crash('b'), fine('c')], policy, 1, NOW).failed).toBe(true)
  })
})
