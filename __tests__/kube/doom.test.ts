import { doomedPodReason, notReady, rolloutDoom } from '../../src/kube/doom.js'
import type { PodEvent } from '../../src/kube/pod-evidence.js'
import { observePods } from '../../src/kube/pod-evidence.js'
import { podEvidence } from '../../src/kube/verdict.js'
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
    expect(d?.message).toMatch(
      /not Ready, and no progress for 200s \(grace 120s\): containers with unready status/
    )
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

/** Seconds before NOW as an ISO time. */
const ago = (s: number) => new Date(NOW - s * 1000).toISOString()
const event = (reason: string, secondsAgo: number, message = '', type = 'Normal'): PodEvent => ({
  reason,
  type,
  message,
  at: NOW - secondsAgo * 1000
})

/** A pod created `age` seconds ago that has shown no progress since, shaped as the kubelet reports it. */
function slowPod(age: number, parts: { spec?: Pod['spec']; status?: Partial<Pod['status']> }): Pod {
  return {
    kind: 'Pod',
    metadata: { name: 'slow', uid: 'u-slow', creationTimestamp: ago(age) },
    spec: { containers: [{ name: 'web', image: 'web' }], ...parts.spec },
    status: {
      phase: 'Pending',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: ago(age) },
        {
          type: 'Ready',
          status: 'False',
          reason: 'ContainersNotReady',
          message: 'containers with unready status: [web]',
          lastTransitionTime: ago(age)
        }
      ],
      ...parts.status
    }
  }
}

describe('slow but healthy pods are never doomed, however long past the grace period', () => {
  const running = (startedSecondsAgo: number, extra: Partial<ContainerStatus> = {}): ContainerStatus => ({
    name: 'web',
    ready: false,
    started: false,
    restartCount: 0,
    state: { running: { startedAt: ago(startedSecondsAgo) } },
    ...extra
  })
  it.each<[string, Pod, PodEvent[]]>([
    [
      'an image still being pulled (the kubelet said Pulling)',
      slowPod(400, {
        status: { containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ContainerCreating' } } }] }
      }),
      [event('Scheduled', 400), event('Pulling', 399, 'Pulling image "registry/big:1"')]
    ],
    [
      'a long init container (a migration) running',
      slowPod(400, {
        spec: {
          initContainers: [{ name: 'migrate', image: 'm' }],
          containers: [{ name: 'web', image: 'web' }]
        },
        status: {
          initContainerStatuses: [
            { name: 'migrate', ready: false, restartCount: 0, state: { running: { startedAt: ago(390) } } }
          ],
          containerStatuses: [{ name: 'web', state: { waiting: { reason: 'PodInitializing' } } }]
        }
      }),
      [event('Started', 390)]
    ],
    [
      'a container inside its startup probe budget (period 10 × 30 failures)',
      slowPod(250, {
        spec: {
          containers: [
            {
              name: 'web',
              image: 'web',
              startupProbe: { periodSeconds: 10, failureThreshold: 30, httpGet: { port: 8080 } as never }
            }
          ]
        },
        status: { phase: 'Running', containerStatuses: [running(240)] }
      }),
      [event('Unhealthy', 5, 'Startup probe failed: connection refused', 'Warning')]
    ],
    [
      'an unschedulable pod for which the cluster autoscaler is adding a node',
      slowPod(300, {
        status: {
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/3 nodes are available: 3 Insufficient cpu.',
              lastTransitionTime: ago(300)
            }
          ]
        }
      }),
      [
        event('FailedScheduling', 280, '0/3 nodes are available', 'Warning'),
        event('TriggeredScaleUp', 270, 'pod triggered scale-up: [{pool-a 3->4 (max: 10)}]')
      ]
    ],
    [
      'a pod whose containers are ready and whose readiness gate another controller has not set yet',
      slowPod(300, {
        spec: { readinessGates: [{ conditionType: 'target-health.elbv2.k8s.aws/web' }] },
        status: {
          phase: 'Running',
          conditions: [
            { type: 'ContainersReady', status: 'True', lastTransitionTime: ago(290) },
            { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', lastTransitionTime: ago(290) }
          ],
          containerStatuses: [running(295, { ready: true, started: true })]
        }
      }),
      []
    ],
    [
      'a pod held by a scheduling gate',
      slowPod(600, {
        spec: { schedulingGates: [{ name: 'example.com/quota' }] },
        status: {
          conditions: [
            { type: 'PodScheduled', status: 'False', reason: 'SchedulingGated', lastTransitionTime: ago(600) }
          ]
        }
      }),
      []
    ],
    [
      'a pod preempting others on its nominated node',
      slowPod(300, {
        status: {
          nominatedNodeName: 'node-2',
          conditions: [
            { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', lastTransitionTime: ago(300) }
          ]
        }
      }),
      []
    ],
    [
      'volumes being attached (ContainerCreating, no warning)',
      slowPod(300, {
        status: { containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ContainerCreating' } } }] }
      }),
      [event('SuccessfulAttachVolume', 200)]
    ]
  ])('%s', (_, p, events) => {
    expect(notReady(p, NOW, { events }).state).toBe('busy')
    expect(doomedPodReason(p, policy, NOW, { events })).toBeUndefined()
  })
})

describe('not Ready counts from the last progress', () => {
  const notReadyRunning = (age: number): Pod =>
    slowPod(age, {
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'web',
            ready: false,
            started: true,
            restartCount: 0,
            state: { running: { startedAt: ago(age) } }
          }
        ]
      }
    })

  it('a progress event resets the clock; warnings do not', () => {
    const p = notReadyRunning(300)
    expect(doomedPodReason(p, policy, NOW, { events: [event('Pulled', 60)] })).toBeUndefined()
    const d = doomedPodReason(p, policy, NOW, {
      events: [
        event('Unhealthy', 2, 'Readiness probe failed: HTTP probe failed with statuscode: 503', 'Warning')
      ]
    })
    expect(d).toMatchObject({ reason: 'NotReady' })
    expect(d?.message).toBe(
      'not Ready, and no progress for 300s (grace 120s): Readiness probe failed: HTTP probe failed with statuscode: 503'
    )
  })

  it('a change the wait saw resets the clock', () => {
    const p = notReadyRunning(300)
    const seen = observePods(new Map(), [p], NOW - 100_000)
    expect(seen.get('u-slow')?.changedAt).toBeUndefined()
    const changed = { ...p, status: { ...p.status, phase: 'Pending' } }
    const again = observePods(seen, [changed], NOW - 50_000)
    expect(again.get('u-slow')?.changedAt).toBe(NOW - 50_000)
    expect(doomedPodReason(changed, policy, NOW, { history: again.get('u-slow') })).toBeUndefined()
    expect(doomedPodReason(changed, policy, NOW + 80_000, { history: again.get('u-slow') })).toMatchObject({
      reason: 'NotReady'
    })
  })

  it("a readiness probe's initial delay is not counted", () => {
    const p = notReadyRunning(200)
    p.spec!.containers![0]!.readinessProbe = { initialDelaySeconds: 150 }
    expect(doomedPodReason(p, policy, NOW)).toBeUndefined()
    expect(doomedPodReason(p, policy, NOW + 80_000)).toMatchObject({ reason: 'NotReady' })
  })

  it('a startup probe whose budget is spent no longer protects the pod', () => {
    const p = notReadyRunning(400)
    p.status!.containerStatuses![0]!.started = false
    p.spec!.containers![0]!.startupProbe = { periodSeconds: 10, failureThreshold: 6 }
    expect(notReady(p, NOW).state).toBe('stuck')
    expect(doomedPodReason(p, policy, NOW)).toMatchObject({ reason: 'NotReady' })
  })

  it('a stuck volume mount counts from the last progress', () => {
    const p = slowPod(300, {
      status: { containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ContainerCreating' } } }] }
    })
    const events = [
      event(
        'FailedMount',
        10,
        'MountVolume.SetUp failed for volume "cfg": configmap "cfg" not found',
        'Warning'
      )
    ]
    expect(doomedPodReason(p, policy, NOW, { events })?.message).toMatch(
      /FailedMount: MountVolume.SetUp failed/
    )
  })
})

describe('unschedulable pods', () => {
  const unschedulable = (age: number) =>
    slowPod(age, {
      status: {
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
            lastTransitionTime: ago(age)
          }
        ]
      }
    })
  it('are doomed at once when the autoscaler says it adds no node', () => {
    const events = [
      event('NotTriggerScaleUp', 5, "pod didn't trigger scale-up: 1 node(s) didn't match Pod's node affinity")
    ]
    expect(doomedPodReason(unschedulable(20), policy, NOW, { events })).toMatchObject({
      reason: 'Unschedulable',
      message: expect.stringMatching(
        /the scheduler cannot place it .* and the cluster autoscaler adds no node for it \(NotTriggerScaleUp/
      )
    })
  })
  it('with no autoscaler in sight, after the grace period', () => {
    expect(doomedPodReason(unschedulable(100), policy, NOW)).toBeUndefined()
    expect(doomedPodReason(unschedulable(130), policy, NOW)?.message).toMatch(
      /no progress for 130s .*unschedulable: 0\/1 nodes/
    )
  })
})

describe('transient kubelet errors count only when they persist', () => {
  const waiting = (reason: string, message: string): Pod =>
    slowPod(30, {
      status: {
        containerStatuses: [{ name: 'web', restartCount: 0, state: { waiting: { reason, message } } }]
      }
    })
  it.each([
    ['CreateContainerConfigError', 'failed to sync secret cache: timed out waiting for the condition'],
    ['CreateContainerError', 'context deadline exceeded'],
    [
      'ErrImagePull',
      'failed to pull and unpack image "r/x:1": failed to do request: Head "https://r/v2/x/manifests/1": dial tcp 10.0.0.1:443: i/o timeout'
    ],
    ['ImagePullBackOff', 'Back-off pulling image "r/x:1": ErrImagePull: 429 Too Many Requests']
  ])('%s: %s', (reason, message) => {
    const p = waiting(reason, message)
    const seen = observePods(new Map(), [p], NOW)
    expect(doomedPodReason(p, policy, NOW + 60_000, { history: seen.get('u-slow') })).toBeUndefined()
    expect(doomedPodReason(p, policy, NOW + 121_000, { history: seen.get('u-slow') })).toMatchObject({
      reason,
      message: expect.stringMatching(/transient cause, but it has persisted for 121s/)
    })
  })
  it.each([
    ['CreateContainerConfigError', 'secret "db" not found'],
    ['ErrImagePull', 'rpc error: code = NotFound desc = failed to pull: manifest unknown: EOF'],
    ['ImagePullBackOff', 'Back-off pulling image "r/x:1": ErrImagePull: 401 Unauthorized']
  ])('%s: %s is doomed at once', (reason, message) => {
    expect(doomedPodReason(waiting(reason, message), policy, NOW)).toMatchObject({ reason })
  })
  it("an ImagePullBackOff without a cause takes it from the kubelet's last Failed event", () => {
    const p = waiting('ImagePullBackOff', 'Back-off pulling image "r/x:1"')
    const events = [
      event('Failed', 3, 'Failed to pull image "r/x:1": dial tcp: connection refused', 'Warning')
    ]
    expect(doomedPodReason(p, policy, NOW, { events })).toBeUndefined()
    expect(
      doomedPodReason(p, policy, NOW, {
        events: [event('Failed', 3, 'Failed to pull image "r/x:1": not found', 'Warning')]
      })
    ).toMatchObject({ reason: 'ImagePullBackOff' })
  })
})

describe('failed pods count only when their replacements fail too', () => {
  const failed = (name: string, createdSecondsAgo: number, reason: string): Pod => ({
    kind: 'Pod',
    metadata: { name, uid: name, creationTimestamp: ago(createdSecondsAgo) },
    status: { phase: 'Failed', reason, message: `${reason} by the test` }
  })
  const ready = (name: string, createdSecondsAgo: number) =>
    pod(name, { state: { running: {} }, ready: true }, {}, createdSecondsAgo)
  const crash = (name: string, createdSecondsAgo: number) =>
    pod(name, { state: { waiting: { reason: 'CrashLoopBackOff' } }, restartCount: 3 }, {}, createdSecondsAgo)

  it('an evicted pod replaced by a healthy one fails nothing', () => {
    expect(rolloutDoom([failed('a', 60, 'Evicted'), ready('b', 30)], policy, 0, NOW).doomed).toEqual([])
  })
  it('two evictions in a row (a drain) fail nothing', () => {
    const v = rolloutDoom(
      [failed('a', 60, 'Evicted'), failed('b', 30, 'Evicted'), ready('c', 10)],
      policy,
      0,
      NOW
    )
    expect(v.failed).toBe(false)
  })
  it('an evicted pod whose replacement crash-loops counts, and so does the replacement', () => {
    const v = rolloutDoom([failed('a', 60, 'Evicted'), crash('b', 30)], policy, 0, NOW)
    expect(v.doomed.map(d => d.pod)).toEqual(['a', 'b'])
    expect(v.doomed[0]?.message).toMatch(/its replacement b failed too/)
  })
  it('a kubelet that refuses every replacement (OutOfcpu) fails the rollout', () => {
    const v = rolloutDoom([failed('a', 60, 'OutOfcpu'), failed('b', 30, 'OutOfcpu')], policy, 0, NOW)
    expect(v).toMatchObject({ failed: true, doomed: [{ pod: 'a', reason: 'OutOfcpu' }] })
  })
})

describe('the evidence of events', () => {
  const creating = () =>
    slowPod(300, {
      status: { containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ContainerCreating' } } }] }
    })
  it('a pull that ended in the same second as it began is no longer under way', () => {
    const p = slowPod(300, {
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'web',
            ready: false,
            started: true,
            restartCount: 0,
            state: { running: { startedAt: ago(300) } }
          }
        ]
      }
    })
    const events = [event('Pulled', 299, 'Successfully pulled'), event('Pulling', 299, 'Pulling image')]
    expect(notReady(p, NOW, { events }).state).toBe('stuck')
    expect(notReady(creating(), NOW, { events: [event('Pulling', 299, 'Pulling image "big"')] })).toEqual({
      state: 'busy',
      why: 'pulling an image (Pulling image "big")'
    })
  })
  it('a pod recreated under the same name does not inherit the events of the one before it', () => {
    const p = creating()
    const old = {
      kind: 'Event',
      metadata: { name: 'slow.1' },
      involvedObject: { kind: 'Pod', name: 'slow', uid: 'u-old' },
      reason: 'Pulling',
      lastTimestamp: ago(200)
    }
    const evidence = podEvidence({ events: [old] })(p)
    expect(evidence.events).toEqual([])
    const mine = {
      ...old,
      metadata: { name: 'slow.2' },
      involvedObject: { kind: 'Pod', name: 'slow', uid: 'u-slow' }
    }
    expect(podEvidence({ events: [old, mine] })(p).events?.map(e => e.reason)).toEqual(['Pulling'])
  })
})

describe('crashes', () => {
  const exited = (exitCode: number, restartCount = 0): Partial<ContainerStatus> => ({
    state: { terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed', finishedAt: ago(1) } },
    restartCount
  })
  it('the first non-zero exit dooms the pod, before any CrashLoopBackOff', () => {
    expect(doomedPodReason(pod('p', exited(1)), policy, NOW)).toMatchObject({
      reason: 'Error',
      message: 'container web: exited with code 1; 1 crash, 0 tolerated'
    })
    expect(doomedPodReason(pod('p', exited(0)), policy, NOW)).toBeUndefined()
  })
  it('crash-tolerance allows that many crashes, then dooms', () => {
    const tolerant = { ...policy, crashTolerance: 1 }
    expect(doomedPodReason(pod('p', exited(1)), tolerant, NOW)).toBeUndefined()
    const runningAgain = pod('p', {
      state: { running: { startedAt: ago(1) } },
      lastState: { terminated: { exitCode: 1, reason: 'Error' } },
      restartCount: 1
    })
    expect(doomedPodReason(runningAgain, tolerant, NOW)).toBeUndefined()
    const second = pod('p', {
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error' } },
      restartCount: 1
    })
    expect(doomedPodReason(second, tolerant, NOW)).toMatchObject({ reason: 'CrashLoopBackOff' })
  })
  it('a container Ready again after a crash has recovered', () => {
    const recovered = pod('p', {
      state: { running: {} },
      lastState: { terminated: { exitCode: 1, reason: 'Error' } },
      restartCount: 1,
      ready: true
    })
    expect(doomedPodReason(recovered, policy, NOW)).toBeUndefined()
  })
})
