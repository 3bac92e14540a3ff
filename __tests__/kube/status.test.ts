import {
  daemonSetStatus,
  deploymentStatus,
  progressLine,
  rolloutStatus,
  statefulSetStatus
} from '../../src/kube/status.js'
import type { DaemonSet, Deployment, StatefulSet } from '../../src/kube/objects.js'

const deployment = (spec: Deployment['spec'], status: Deployment['status'], generation = 2): Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', generation },
  spec,
  status
})

describe('deploymentStatus follows kubectl rollout status', () => {
  it.each([
    [
      'an unobserved generation',
      deployment(
        { replicas: 3 },
        { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }
      ),
      false,
      'Waiting for deployment spec update to be observed...'
    ],
    [
      'too few updated replicas',
      deployment(
        { replicas: 3 },
        { observedGeneration: 2, replicas: 4, updatedReplicas: 1, availableReplicas: 3 }
      ),
      false,
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...'
    ],
    [
      'old replicas pending termination',
      deployment(
        { replicas: 3 },
        { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 }
      ),
      false,
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...'
    ],
    [
      'updated replicas not yet available',
      deployment(
        { replicas: 3 },
        { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 }
      ),
      false,
      'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...'
    ],
    [
      'everything updated and available',
      deployment(
        { replicas: 3 },
        { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }
      ),
      true,
      'deployment "web" successfully rolled out'
    ],
    [
      'zero replicas',
      deployment({ replicas: 0 }, { observedGeneration: 2 }),
      true,
      'deployment "web" successfully rolled out'
    ]
  ])('%s', (_, d, done, message) => {
    const s = deploymentStatus(d)
    expect(s).toMatchObject({ done, message })
    expect(s.error).toBeUndefined()
  })

  it('checks updated replicas before old ones, as kubectl does', () => {
    // Both conditions hold: kubectl reports the updated count first.
    const s = deploymentStatus(
      deployment(
        { replicas: 3 },
        { observedGeneration: 2, replicas: 5, updatedReplicas: 2, availableReplicas: 1 }
      )
    )
    expect(s.message).toMatch(/2 out of 3 new replicas/)
  })

  it('reports ProgressDeadlineExceeded as an error, before the counts', () => {
    const s = deploymentStatus(
      deployment(
        { replicas: 3 },
        {
          observedGeneration: 2,
          replicas: 4,
          updatedReplicas: 1,
          conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }]
        }
      )
    )
    expect(s.error).toBe('deployment "web" exceeded its progress deadline')
    expect(s.done).toBe(false)
  })

  it('fails a paused Deployment instead of waiting forever', () => {
    const s = deploymentStatus(
      deployment({ replicas: 2, paused: true }, { observedGeneration: 2, replicas: 2, updatedReplicas: 0 })
    )
    expect(s.error).toMatch(/is paused.*kubectl rollout resume deployment\/web/)
  })

  it('calls a paused Deployment that is already fully rolled out complete, as kubectl does', () => {
    const s = deploymentStatus(
      deployment(
        { replicas: 2, paused: true },
        { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }
      )
    )
    expect(s).toMatchObject({ done: true, message: 'deployment "web" successfully rolled out' })
    expect(s.error).toBeUndefined()
  })

  it('renders a progress line', () => {
    const s = deploymentStatus(
      deployment(
        { replicas: 3 },
        { observedGeneration: 2, replicas: 4, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 1 }
      )
    )
    expect(progressLine(s)).toBe('2/3 updated, 3/3 ready, 1/3 available')
  })
})

const sts = (spec: StatefulSet['spec'], status: StatefulSet['status']): StatefulSet => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'db', generation: 2 },
  spec,
  status
})

describe('statefulSetStatus', () => {
  const rolling = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }
  it.each([
    [
      'OnDelete strategy',
      sts({ replicas: 3, updateStrategy: { type: 'OnDelete' } }, { observedGeneration: 2 }),
      false,
      'rollout status is only available for RollingUpdate strategy type'
    ],
    [
      'no observed generation',
      sts({ replicas: 3, updateStrategy: rolling }, {}),
      false,
      'Waiting for statefulset spec update to be observed...'
    ],
    [
      'pods not ready',
      sts({ replicas: 3, updateStrategy: rolling }, { observedGeneration: 2, readyReplicas: 1 }),
      false,
      'Waiting for 2 pods to be ready...'
    ],
    [
      'partition not reached',
      sts(
        { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
        { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1 }
      ),
      false,
      'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...'
    ],
    [
      'partitioned complete',
      sts(
        { replicas: 3, updateStrategy: rolling },
        { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 3 }
      ),
      true,
      'partitioned roll out complete: 3 new pods have been updated...'
    ],
    [
      'revisions differ',
      sts(
        { replicas: 3, updateStrategy: { type: 'RollingUpdate' } },
        {
          observedGeneration: 2,
          readyReplicas: 3,
          updatedReplicas: 2,
          currentRevision: 'db-a',
          updateRevision: 'db-b'
        }
      ),
      false,
      'waiting for statefulset rolling update to complete 2 pods at revision db-b...'
    ],
    [
      'revisions equal',
      sts(
        { replicas: 3, updateStrategy: { type: 'RollingUpdate' } },
        {
          observedGeneration: 2,
          readyReplicas: 3,
          currentReplicas: 3,
          currentRevision: 'db-b',
          updateRevision: 'db-b'
        }
      ),
      true,
      'statefulset rolling update complete 3 pods at revision db-b...'
    ]
  ])('%s', (_, s, done, message) => {
    expect(statefulSetStatus(s)).toMatchObject({ done, message })
  })
})

const ds = (status: DaemonSet['status'], type = 'RollingUpdate'): DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent', generation: 3 },
  spec: { updateStrategy: { type } },
  status
})

describe('daemonSetStatus', () => {
  it.each([
    [
      'unobserved',
      ds({ observedGeneration: 2, desiredNumberScheduled: 3 }),
      false,
      'Waiting for daemon set spec update to be observed...'
    ],
    [
      'not all updated',
      ds({ observedGeneration: 3, desiredNumberScheduled: 3, updatedNumberScheduled: 1 }),
      false,
      'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...'
    ],
    [
      'not all available',
      ds({ observedGeneration: 3, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 }),
      false,
      'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...'
    ],
    [
      'complete',
      ds({ observedGeneration: 3, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }),
      true,
      'daemon set "agent" successfully rolled out'
    ]
  ])('%s', (_, d, done, message) => {
    expect(daemonSetStatus(d)).toMatchObject({ done, message })
  })

  it('rejects OnDelete', () => {
    expect(daemonSetStatus(ds({ observedGeneration: 3 }, 'OnDelete')).error).toMatch(
      /only available for RollingUpdate/
    )
  })
})

it('rolloutStatus refuses kinds without a viewer', () => {
  expect(rolloutStatus({ kind: 'Service', metadata: { name: 'x' } }).error).toMatch(
    /no rollout status for kind Service/
  )
})
