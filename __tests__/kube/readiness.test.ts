import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AppliedObject } from '../../src/kube/apply.js'
import {
  PART_OF,
  applySetId,
  groupKindOf,
  labelMembers,
  parentManifest,
  parentProblem,
  pruneCandidates
} from '../../src/kube/applyset.js'
import type { KubeObject, Pod } from '../../src/kube/objects.js'
import { objectReadiness } from '../../src/kube/readiness.js'
import type { ReadinessContext } from '../../src/kube/readiness.js'
import { SHIPPED_RULES, loadReadinessRules, parseReadinessRules } from '../../src/kube/readiness-rules.js'
import { releaseOutcome } from '../../src/kube/release/outcome.js'
import { restorePlan, restoredBody } from '../../src/kube/release/restore.js'
import { REPO_ROOT } from '../harness/runner.js'

const NOW = Date.parse('2026-01-01T00:10:00Z')
const ctx = (extra: Partial<ReadinessContext> = {}): ReadinessContext => ({
  rules: SHIPPED_RULES,
  hasStatus: true,
  policy: { notReadyGraceMs: 120_000, oomRestarts: 2 },
  now: NOW,
  ...extra
})
const cond = (type: string, status: string, reason = '', message = '') => ({ type, status, reason, message })

describe('Jobs', () => {
  const job = (status: KubeObject['status'], spec: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'migrate', namespace: 'ns', uid: 'job-uid' },
    spec: { backoffLimit: 1, ...spec },
    status
  })
  const jobPod = (cs: NonNullable<Pod['status']>['containerStatuses'], phase = 'Pending'): Pod => ({
    kind: 'Pod',
    metadata: {
      name: 'migrate-x',
      uid: 'p1',
      creationTimestamp: '2026-01-01T00:09:00Z',
      ownerReferences: [{ kind: 'Job', name: 'migrate', uid: 'job-uid', controller: true }]
    },
    status: { phase, containerStatuses: cs }
  })

  it('complete, failed, running', () => {
    expect(objectReadiness(job({ conditions: [cond('Complete', 'True')], succeeded: 1 }), ctx())).toEqual({
      state: 'current',
      message: 'job/migrate complete (1 succeeded)'
    })
    expect(
      objectReadiness(
        job({
          conditions: [
            cond('Failed', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')
          ]
        }),
        ctx()
      )
    ).toEqual({
      state: 'failed',
      message: 'job/migrate failed: BackoffLimitExceeded: Job has reached the specified backoff limit'
    })
    expect(objectReadiness(job({ active: 1 }), ctx())).toMatchObject({
      state: 'in progress',
      message: 'waiting for job/migrate to complete: 1 active, 0 succeeded, 0 failed (backoffLimit 1)'
    })
  })

  it('a pod that can never run fails it at once; an exit failure is left to backoffLimit', () => {
    const pull = jobPod([
      { name: 'm', state: { waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } } }
    ])
    expect(objectReadiness(job({ active: 1 }), ctx({ pods: [pull] }))).toMatchObject({
      state: 'failed',
      message: expect.stringMatching(/pod migrate-x can never run: ErrImagePull/)
    })
    const crash = jobPod(
      [{ name: 'm', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
      'Running'
    )
    expect(objectReadiness(job({ active: 1 }), ctx({ pods: [crash] })).state).toBe('in progress')
  })
})

describe('CRDs, pods, Services', () => {
  it('a CRD is ready once Established; names not accepted fail it', () => {
    const crd = (conditions: unknown[]): KubeObject => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      status: { conditions }
    })
    expect(objectReadiness(crd([]), ctx()).state).toBe('in progress')
    expect(objectReadiness(crd([cond('Established', 'True')]), ctx()).state).toBe('current')
    expect(
      objectReadiness(crd([cond('NamesAccepted', 'False', 'MultipleNamesNotAllowed', 'x')]), ctx()).state
    ).toBe('failed')
  })
  it('a LoadBalancer Service waits for its address; a ClusterIP one does not', () => {
    const svc = (type: string, status = {}): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { type },
      status
    })
    expect(objectReadiness(svc('ClusterIP'), ctx()).state).toBe('current')
    expect(objectReadiness(svc('LoadBalancer', { loadBalancer: {} }), ctx()).message).toBe(
      'waiting for service/web to get a load balancer address'
    )
    expect(
      objectReadiness(svc('LoadBalancer', { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } }), ctx()).state
    ).toBe('current')
  })
})

describe("kstatus's generic rules", () => {
  const cr = (status: unknown, generation = 2): KubeObject => ({
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w', generation },
    status: status as never
  })
  it.each<[string, unknown, string]>([
    ['no status yet, with a status subresource', undefined, 'in progress'],
    [
      'an older generation observed',
      { observedGeneration: 1, conditions: [cond('Ready', 'True')] },
      'in progress'
    ],
    ['Ready True', { observedGeneration: 2, conditions: [cond('Ready', 'True')] }, 'current'],
    [
      'Ready False',
      { observedGeneration: 2, conditions: [cond('Ready', 'False', 'Provisioning')] },
      'in progress'
    ],
    ['Stalled True', { conditions: [cond('Stalled', 'True', 'InvalidSpec', 'bad')] }, 'failed'],
    ['Reconciling True', { conditions: [cond('Reconciling', 'True')] }, 'in progress'],
    [
      'a condition of an older generation',
      { conditions: [{ ...cond('Ready', 'True'), observedGeneration: 1 }] },
      'in progress'
    ],
    ['a status with no conditions', { phase: 'Anything' }, 'current']
  ])('%s: %s', (_, status, state) => {
    expect(objectReadiness(cr(status), ctx()).state).toBe(state)
  })
  it('says which controller it waits for when nothing reports', () => {
    expect(objectReadiness(cr(undefined), ctx()).message).toMatch(
      /is the controller of Widget.example.com running\?/
    )
  })
  it('a custom resource without a status subresource, and a ConfigMap, are ready at once', () => {
    expect(objectReadiness(cr(undefined), ctx({ hasStatus: false })).state).toBe('current')
    expect(
      objectReadiness({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, ctx()).state
    ).toBe('current')
  })
})

describe('readiness rules', () => {
  it('shipped: a cert-manager Certificate', () => {
    const cert = (conditions: unknown[]): KubeObject => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: 'tls', generation: 1 },
      status: { conditions }
    })
    expect(objectReadiness(cert([cond('Ready', 'True')]), ctx()).state).toBe('current')
    expect(objectReadiness(cert([cond('Ready', 'False'), cond('Issuing', 'True')]), ctx()).message).toBe(
      'waiting for certificate/tls: .status.conditions[?(@.type=="Ready")].status is False, wanted True'
    )
    expect(
      objectReadiness(
        cert([cond('Ready', 'False'), cond('Issuing', 'False', 'Failed', 'ACME order failed')]),
        ctx()
      )
    ).toEqual({
      state: 'failed',
      message:
        'certificate/tls failed (shipped rule: .status.conditions[?(@.type=="Issuing")].reason): ACME order failed'
    })
  })
  it('shipped: an Argo Rollout, a Flagger Canary, a PVC', () => {
    const obj = (apiVersion: string, kind: string, status: unknown): KubeObject => ({
      apiVersion,
      kind,
      metadata: { name: 'x' },
      status: status as never
    })
    expect(
      objectReadiness(
        obj('argoproj.io/v1alpha1', 'Rollout', { phase: 'Degraded', message: 'ProgressDeadlineExceeded' }),
        ctx()
      )
    ).toMatchObject({
      state: 'failed',
      message: expect.stringMatching(/: ProgressDeadlineExceeded$/)
    })
    expect(objectReadiness(obj('flagger.app/v1beta1', 'Canary', { phase: 'Succeeded' }), ctx()).state).toBe(
      'current'
    )
    expect(objectReadiness(obj('v1', 'PersistentVolumeClaim', { phase: 'Pending' }), ctx()).state).toBe(
      'in progress'
    )
    expect(objectReadiness(obj('v1', 'PersistentVolumeClaim', { phase: 'Bound' }), ctx()).state).toBe(
      'current'
    )
  })
  it("a file's rule, with braces and regular expressions, wins over a shipped one", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'))
    writeFileSync(
      join(dir, 'rules.yaml'),
      `rules:
  - apiVersion: cert-manager.io/v1
    kind: Certificate
    success:
      - path: '{.status.notAfter}'
        exists: true
    failure:
      - path: .status.conditions[?(@.type=="Ready")].message
        matches: '^Failed'
        message: .status.conditions[?(@.type=="Ready")].message
`
    )
    const { rules, problems } = await loadReadinessRules(join(dir, 'rules.yaml'))
    expect(problems).toEqual([])
    const cert = (status: unknown): KubeObject => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: 'tls' },
      status: status as never
    })
    expect(objectReadiness(cert({ notAfter: '2027-01-01T00:00:00Z' }), ctx({ rules })).state).toBe('current')
    expect(
      objectReadiness(cert({ conditions: [cond('Ready', 'False', '', 'Failed to issue')] }), ctx({ rules }))
    ).toMatchObject({
      state: 'failed',
      message: expect.stringMatching(/rule at .*rules\.yaml:2: .*\): Failed to issue$/)
    })
  })
  it('names the file and line of every mistake', () => {
    const { rules, problems } = parseReadinessRules(
      `- kind: Widget
  group: example.com
  success:
    - path: .status.phase
      equals: 1
      in: [a]
- group: example.com
  success: []
- kind: Gadget
  apiVersion: example.com/v1
  succes: []
`,
      'rules.yaml'
    )
    expect(rules).toEqual([])
    expect(problems).toEqual([
      'rules.yaml:1: Widget: success[0]: use one of equals, in, matches, exists (found equals, in)',
      'rules.yaml:1: Widget: success[0]: equals takes a string (quote it: "1")',
      'rules.yaml:7: kind is required',
      'rules.yaml:9: unknown field succes (a rule has apiVersion, group, kind, success, failure)',
      'rules.yaml:9: Gadget: success needs at least one matcher'
    ])
  })
})

describe('the rollback of the objects that are not workloads', () => {
  const applied = (
    kind: string,
    name: string,
    action: AppliedObject['action'],
    before?: KubeObject
  ): AppliedObject => ({
    kind,
    name,
    namespace: 'ns',
    action,
    source: 'k8s.yaml:1',
    after: {
      apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1',
      kind,
      metadata: { name, namespace: 'ns' }
    },
    before,
    path: `/api/v1/namespaces/ns/${kind.toLowerCase()}s/${name}`,
    hasStatus: false
  })
  it('restores config first, deletes what the release created (last created first), keeps namespaces', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1' } }
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'old' } }
    const plan = restorePlan([
      applied('Namespace', 'ns', 'created'),
      applied('CustomResourceDefinition', 'widgets.example.com', 'created'),
      applied('Service', 'old', 'configured', svc),
      applied('ConfigMap', 'cfg', 'configured', cm),
      applied('ConfigMap', 'same', 'unchanged', cm),
      applied('Service', 'new', 'created'),
      applied('Deployment', 'web', 'configured', { kind: 'Deployment' }),
      applied('Deployment', 'api', 'created')
    ])
    expect(plan.restore.map(s => s.object)).toEqual(['ConfigMap ns/cfg', 'Service ns/old'])
    expect(plan.delete.map(s => s.object)).toEqual(['Deployment ns/api', 'Service ns/new'])
    expect(plan.keep).toEqual([
      { object: 'Namespace ns/ns', why: 'deleting a namespace deletes everything in it' },
      {
        object: 'CustomResourceDefinition ns/widgets.example.com',
        why: 'deleting a CRD deletes every object of its kind'
      }
    ])
  })
  it('writes back the old object over the live resourceVersion, without server fields', () => {
    const before: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', uid: 'u', resourceVersion: '1', creationTimestamp: 't', managedFields: [] },
      data: { a: '1' }
    }
    expect(restoredBody(before, { metadata: { resourceVersion: '7' } })).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', resourceVersion: '7' },
      data: { a: '1' }
    })
  })
})

describe('the outcome with objects', () => {
  const ok = {
    target: { kind: 'Deployment' as const, name: 'web', namespace: 'ns' },
    verdict: {
      state: 'complete' as const,
      status: { message: 'done', done: true },
      newPods: [],
      doom: { doomed: [], failed: false }
    }
  }
  it('a failed migration Job fails the release, named by its own message', () => {
    const failed = {
      ref: { apiVersion: 'batch/v1', kind: 'Job', name: 'migrate', namespace: 'ns' },
      verdict: { state: 'failed' as const, message: 'job/migrate failed: BackoffLimitExceeded' },
      immediate: false,
      at: 0
    }
    expect(releaseOutcome({ waits: [ok], objects: [failed], smoke: [] })).toMatchObject({
      result: 'failed',
      failureReason: 'job/migrate failed: BackoffLimitExceeded'
    })
    expect(releaseOutcome({ waits: [ok], objects: [], smoke: [] }).result).toBe('success')
  })
})

describe('docs/readiness-rules.md', () => {
  it('its example file is a valid rules file that judges its kind', () => {
    const text = readFileSync(join(REPO_ROOT, 'docs/readiness-rules.md'), 'utf8')
    const example = /```yaml\n(# \.github\/readiness-rules\.yaml[\s\S]*?)```/.exec(text)?.[1]
    expect(example).toBeDefined()
    const { rules, problems } = parseReadinessRules(example!, 'docs/readiness-rules.md')
    expect(problems).toEqual([])
    const db = (status: unknown): KubeObject => ({
      apiVersion: 'example.com/v1',
      kind: 'Database',
      metadata: { name: 'db' },
      status: status as never
    })
    const c = ctx({ rules: [...SHIPPED_RULES, ...rules] })
    expect(objectReadiness(db({ phase: 'Running', endpoint: 'db:5432' }), c).state).toBe('current')
    expect(objectReadiness(db({ phase: 'Running' }), c).state).toBe('in progress')
    expect(objectReadiness(db({ phase: 'Degraded', message: 'disk full' }), c)).toMatchObject({
      state: 'failed',
      message: expect.stringMatching(/disk full$/)
    })
    expect(
      objectReadiness(
        db({
          conditions: [{ type: 'Provisioned', status: 'False', reason: 'QuotaExceeded', message: 'no quota' }]
        }),
        c
      )
    ).toMatchObject({ state: 'failed', message: expect.stringMatching(/no quota$/) })
  })
})

describe('ApplySets', () => {
  it("computes kubectl's id: base64url(sha256(name.namespace.kind.group)) between applyset- and -v1", () => {
    const id = applySetId('web', 'prod')
    const hash = createHash('sha256').update('web.prod.Secret.').digest('base64url')
    expect(id).toBe(`applyset-${hash}-v1`)
    expect(id).toMatch(/^applyset-[A-Za-z0-9_-]{43}-v1$/)
  })
  it('labels members and writes the parent with every group-kind and other namespace', () => {
    const objects: KubeObject[] = [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'prod' } },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cfg', namespace: 'prod', labels: { a: 'b' } }
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'edge' } }
    ]
    labelMembers(objects, 'applyset-x-v1')
    expect(objects[1]!.metadata!.labels).toEqual({ a: 'b', [PART_OF]: 'applyset-x-v1' })
    const parent = parentManifest('web', 'prod', objects.map(groupKindOf), ['prod', 'edge'])
    expect(parent.metadata!.annotations).toEqual({
      'applyset.kubernetes.io/tooling': 'otlp-deploy-actions/v1',
      'applyset.kubernetes.io/contains-group-kinds': 'ConfigMap,Deployment.apps,Service',
      'applyset.kubernetes.io/additional-namespaces': 'edge'
    })
    expect(parent.metadata!.labels).toEqual({ 'applyset.kubernetes.io/id': applySetId('web', 'prod') })
  })
  it("refuses another tool's parent and a Secret that is not a parent", () => {
    const id = applySetId('web', 'prod')
    expect(parentProblem(undefined, id)).toBe('')
    expect(
      parentProblem(
        { metadata: { annotations: { 'applyset.kubernetes.io/tooling': 'kubectl/v1.34.4' } } },
        id
      )
    ).toMatch(/managed by kubectl\/v1\.34\.4/)
    expect(parentProblem({ metadata: {}, data: { password: 'x' } }, id)).toMatch(/not an ApplySet parent/)
  })
  it('prunes only members of the set that the release no longer has', () => {
    const member = (kind: string, name: string, id = 'applyset-x-v1'): KubeObject => ({
      apiVersion: 'v1',
      kind,
      metadata: { name, namespace: 'prod', labels: { [PART_OF]: id } }
    })
    const current = new Set(['ConfigMap/prod/keep'])
    expect(
      pruneCandidates(
        [
          member('ConfigMap', 'keep'),
          member('ConfigMap', 'old'),
          member('ConfigMap', 'other', 'applyset-y-v1')
        ],
        'applyset-x-v1',
        current
      ).map(o => o.metadata?.name)
    ).toEqual(['old'])
  })
})
