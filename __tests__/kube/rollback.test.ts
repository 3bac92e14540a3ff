import {
  controllerRevisionRollbackPlan,
  deploymentRollbackPlan,
  currentControllerRevision,
  templatesEqualIgnoringHash
} from '../../src/kube/rollback.js'
import type { ControllerRevision, Deployment, ReplicaSet, StatefulSet } from '../../src/kube/objects.js'

const owner = { kind: 'Deployment', name: 'web', uid: 'u-web', controller: true }
const template = (image: string, hash?: string) => ({
  metadata: {
    labels: { app: 'web', ...(hash ? { 'pod-template-hash': hash } : {}) },
    annotations: { team: image }
  },
  spec: { containers: [{ name: 'web', image }] }
})
const rs = (
  revision: number,
  image: string,
  hash: string,
  annotations: Record<string, string> = {}
): ReplicaSet => ({
  kind: 'ReplicaSet',
  metadata: {
    name: `web-${hash}`,
    labels: { app: 'web', 'pod-template-hash': hash },
    annotations: { 'deployment.kubernetes.io/revision': String(revision), ...annotations },
    ownerReferences: [owner]
  },
  spec: { template: template(image, hash) }
})
const deployment = (
  image: string,
  revision: number,
  extra: Partial<Deployment['spec']> = {}
): Deployment => ({
  kind: 'Deployment',
  metadata: {
    name: 'web',
    uid: 'u-web',
    annotations: {
      'deployment.kubernetes.io/revision': String(revision),
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      note: 'current'
    }
  },
  spec: { template: template(image), ...extra }
})

describe('deploymentRollbackPlan (kubectl rollout undo)', () => {
  const history = [
    rs(1, 'web:v1', 'aaa', { 'deployment.kubernetes.io/desired-replicas': '3', note: 'from-rs1' }),
    rs(2, 'web:v2', 'bbb', { note: 'from-rs2' }),
    rs(3, 'web:v3', 'ccc')
  ]

  it('goes to the previous revision: its template without pod-template-hash, annotations as kubectl sets them', () => {
    const plan = deploymentRollbackPlan(deployment('web:v3', 3), history)
    expect(plan.kind).toBe('patch')
    if (plan.kind !== 'patch') return
    expect(plan.revision).toBe(2)
    expect(plan.patchType).toBe('json')
    const [tpl, ann] = plan.patch as { op: string; path: string; value: Record<string, unknown> }[]
    expect(tpl).toEqual({ op: 'replace', path: '/spec/template', value: template('web:v2') })
    // Skipped annotations are kept from the Deployment; the rest come from the ReplicaSet.
    expect(ann).toEqual({
      op: 'replace',
      path: '/metadata/annotations',
      value: {
        'deployment.kubernetes.io/revision': '3',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
        note: 'from-rs2'
      }
    })
  })

  it('goes to an explicit revision and drops skipped annotations of the ReplicaSet', () => {
    const plan = deploymentRollbackPlan(deployment('web:v3', 3), history, 1)
    expect(plan).toMatchObject({ kind: 'patch', revision: 1 })
    const ann = (plan as { patch: { value: Record<string, string> }[] }).patch[1]!.value
    expect(ann).not.toHaveProperty('deployment.kubernetes.io/desired-replicas')
    expect(ann.note).toBe('from-rs1')
  })

  it('skips when the template already matches the target', () => {
    expect(deploymentRollbackPlan(deployment('web:v2', 3), history, 2)).toMatchObject({
      kind: 'skip',
      revision: 2
    })
  })

  it('refuses a paused Deployment, a missing revision, and a history of one', () => {
    expect(deploymentRollbackPlan(deployment('web:v3', 3, { paused: true }), history).kind).toBe('impossible')
    expect(deploymentRollbackPlan(deployment('web:v3', 3), history, 7)).toMatchObject({
      kind: 'impossible',
      description: expect.stringMatching(/no revision 7/)
    })
    expect(deploymentRollbackPlan(deployment('web:v1', 1), [history[0]!])).toMatchObject({
      kind: 'impossible',
      description: expect.stringMatching(/no previous revision/)
    })
  })

  it('ignores ReplicaSets another Deployment controls', () => {
    const foreign = {
      ...rs(2, 'other:v2', 'zzz'),
      metadata: { ...rs(2, 'other:v2', 'zzz').metadata, ownerReferences: [{ ...owner, uid: 'other' }] }
    }
    const plan = deploymentRollbackPlan(deployment('web:v3', 3), [foreign, history[0]!, history[2]!])
    expect(plan).toMatchObject({ kind: 'patch', revision: 1 })
  })
})

describe('controllerRevisionRollbackPlan (StatefulSet, DaemonSet)', () => {
  const stsOwner = { kind: 'StatefulSet', name: 'db', uid: 'u-db', controller: true }
  const cr = (revision: number, image: string): ControllerRevision => ({
    kind: 'ControllerRevision',
    metadata: { name: `db-${revision}`, ownerReferences: [stsOwner] },
    revision,
    data: {
      spec: {
        template: {
          $patch: 'replace',
          metadata: { labels: { app: 'db' } },
          spec: { containers: [{ name: 'db', image }] }
        }
      }
    }
  })
  const sts = (image: string): StatefulSet => ({
    kind: 'StatefulSet',
    metadata: { name: 'db', uid: 'u-db' },
    spec: {
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image }] } }
    },
    status: { updateRevision: 'db-3' }
  })

  it('patches with the previous ControllerRevision data, strategic merge', () => {
    const plan = controllerRevisionRollbackPlan(sts('db:v3'), [
      cr(1, 'db:v1'),
      cr(3, 'db:v3'),
      cr(2, 'db:v2')
    ])
    expect(plan).toMatchObject({
      kind: 'patch',
      revision: 2,
      patchType: 'strategic-merge',
      patch: cr(2, 'db:v2').data
    })
  })

  it('skips when the current template is the target', () => {
    expect(controllerRevisionRollbackPlan(sts('db:v2'), [cr(2, 'db:v2'), cr(3, 'db:v3')], 2).kind).toBe(
      'skip'
    )
  })

  it('knows the current revision from updateRevision', () => {
    expect(currentControllerRevision(sts('db:v3'), [cr(1, 'a'), cr(3, 'b'), cr(2, 'c')])).toBe(3)
  })
})

it('templatesEqualIgnoringHash ignores the hash label and empty maps only', () => {
  expect(templatesEqualIgnoringHash(template('a', 'h1'), template('a'))).toBe(true)
  expect(templatesEqualIgnoringHash(template('a', 'h1'), template('b', 'h1'))).toBe(false)
})
