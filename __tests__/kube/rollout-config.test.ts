import { parseConfig } from '../../src/actions/rollout/config.js'
import { inputProblems, parseWithDefaults } from '../harness/inputs.js'
import { ownRollbackConflict } from '../../src/kube/apply.js'
import { KubeApiError } from '../../src/kube/client.js'

const parse = (given: Record<string, string>) => parseWithDefaults('rollout', parseConfig, given)
const problems = (given: Record<string, string>) => inputProblems('rollout', parseConfig, given)

const DIGEST = `ghcr.io/acme/otlp-client@sha256:${'c'.repeat(64)}`

describe('rollout inputs', () => {
  it('reads a full configuration with the documented defaults', () => {
    const c = parse({
      manifests: 'k8s\ndeploy/*.yaml',
      images: `otlp-client=${DIGEST}`,
      'smoke-url': 'https://svc/health',
      'smoke-expect': 'json:status=ok'
    })
    expect(c).toMatchObject({
      manifests: ['k8s', 'deploy/*.yaml'],
      images: [{ container: 'otlp-client', image: DIGEST, byDigest: true }],
      timeoutMs: 600_000,
      fieldManager: 'otlp-deploy-actions',
      forceConflicts: false,
      doom: { notReadyGraceMs: 120_000, tolerance: 0, oomRestarts: 2, crashTolerance: 0 },
      logLines: 20,
      smoke: {
        urls: ['https://svc/health'],
        expect: { kind: 'json', path: ['status'], value: 'ok' },
        timeoutMs: 60_000,
        retries: 5,
        job: ''
      },
      rollback: true
    })
  })

  it('takes a workload with image pins instead of manifests', () => {
    expect(parse({ workload: 'deploy/otlp-client', images: `otlp-client=${DIGEST}` }).workload).toEqual({
      kind: 'Deployment',
      name: 'otlp-client'
    })
  })

  it.each([
    [{}, /^manifests: give manifests to apply, or a workload/],
    [{ workload: 'deployment/web' }, /^images: is required with workload "deployment\/web"/],
    [
      { manifests: 'k8s', workload: 'deployment/web', images: 'web=web:1' },
      /^workload: cannot be combined with manifests/
    ],
    [{ workload: 'service/web', images: 'web=web:1' }, /^workload: kind "service" cannot be rolled out/],
    [
      { manifests: 'k8s', images: 'web=web@sha256:123' },
      /^images: web: "web@sha256:123" has a malformed digest/
    ],
    [{ manifests: 'k8s', prune: 'true' }, /^prune: needs applyset/],
    [{ manifests: 'k8s', applyset: 'Web_Set' }, /^applyset: "Web_Set" is not a valid Secret name/],
    [
      { workload: 'deployment/web', images: 'web=web:1', applyset: 'web' },
      /^applyset: works with manifests, not with workload/
    ],
    [{ manifests: 'k8s', 'crash-tolerance': '-1' }, /^crash-tolerance: /],
    [
      { manifests: 'k8s', 'smoke-url': 'ftp://x/health' },
      /^smoke-url: "ftp:\/\/x\/health" is not an http\(s\) URL/
    ],
    [{ manifests: 'k8s', 'smoke-expect': 'ok' }, /^smoke-expect: needs smoke-url/],
    [{ manifests: 'k8s', 'doom-grace': 'soon' }, /^doom-grace: "soon" is not a duration/],
    [{ manifests: 'k8s', namespace: 'Prod' }, /^namespace: "Prod" is not a valid namespace name/],
    [{ manifests: 'k8s', rollback: 'yes' }, /^rollback: "yes" is not a boolean/]
  ])('rejects %j', (given, message) => {
    expect(problems(given as Record<string, string>)).toEqual([expect.stringMatching(message)])
  })
})

describe('ownRollbackConflict', () => {
  const conflict = (...managers: string[]) =>
    new KubeApiError(
      409,
      {
        code: 409,
        reason: 'Conflict',
        message: `Apply failed with ${managers.length} conflicts`,
        details: {
          causes: managers.map(m => ({
            reason: 'FieldManagerConflict',
            message: `conflict with "${m}" using apps/v1`,
            field: '.spec'
          }))
        }
      },
      'patch',
      '/apis/apps/v1/namespaces/n/deployments/web'
    )
  it('is true only when every conflict is with our own manager', () => {
    expect(
      ownRollbackConflict(conflict('otlp-deploy-actions', 'otlp-deploy-actions'), 'otlp-deploy-actions')
    ).toBe(true)
    expect(
      ownRollbackConflict(conflict('otlp-deploy-actions', 'kubectl-client-side-apply'), 'otlp-deploy-actions')
    ).toBe(false)
    expect(ownRollbackConflict(conflict('helm'), 'otlp-deploy-actions')).toBe(false)
    expect(ownRollbackConflict(new Error('x'), 'otlp-deploy-actions')).toBe(false)
  })
})
