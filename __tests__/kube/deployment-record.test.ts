// The GitHub deployment record's pure parts: the final status of each kind of release end, the last
// successful deployment among a list, the images a release runs, and the inputs that drive it.
import { finalStatus, lastSuccess, PAYLOAD_SCHEMA } from '../../src/github/deployments.js'
import { releaseImages, type ReleasePlan } from '../../src/kube/release/plan.js'
import { parseConfig } from '../../src/actions/rollout/config.js'
import { inputProblems, parseWithDefaults } from '../harness/inputs.js'

describe('finalStatus', () => {
  it('says what the release came to, within 140 characters', () => {
    expect(finalStatus({ result: 'success', revision: '4' })).toEqual({
      state: 'success',
      description: 'Released revision 4; verified'
    })
    expect(
      finalStatus({ result: 'rolled-back', previousRevision: '3', reason: 'pod web-1 crashed (exit 1)' })
    ).toEqual({
      state: 'failure',
      description: 'Rolled back to revision 3: pod web-1 crashed (exit 1)'
    })
    expect(finalStatus({ result: 'failed', reason: 'rollback is false' }).state).toBe('failure')
    expect(finalStatus({ result: 'error', reason: 'cannot connect' })).toEqual({
      state: 'error',
      description: 'Not released: cannot connect'
    })
    const long = finalStatus({ result: 'rolled-back', reason: 'x'.repeat(500) }).description
    expect(long).toHaveLength(140)
    expect(long.endsWith('…')).toBe(true)
  })
})

describe('lastSuccess', () => {
  const payload = (image: string) => ({
    schema: PAYLOAD_SCHEMA,
    images: { web: image },
    workloads: [],
    namespace: 'ns',
    previousRevision: ''
  })
  it('takes the newest deployment whose latest status is success and whose payload is ours', () => {
    const found = lastSuccess([
      { id: 5, sha: 'e', payload: payload('web@sha256:5'), latestState: 'failure' },
      { id: 4, sha: 'd', payload: { other: 'tool' }, latestState: 'success' },
      { id: 3, sha: 'c', payload: payload('web@sha256:3'), latestState: 'success' },
      { id: 2, sha: 'b', payload: payload('web@sha256:2'), latestState: 'success' }
    ])
    expect(found).toMatchObject({ id: 3, sha: 'c', payload: { images: { web: 'web@sha256:3' } } })
    expect(
      lastSuccess([{ id: 1, sha: 'a', payload: payload('x'), latestState: 'in_progress' }])
    ).toBeUndefined()
  })

  it('counts a deployment made inactive by a newer success (auto_inactive), which GitHub does only to successes', () => {
    const found = lastSuccess([
      { id: 9, sha: 'i', payload: { jobs: 'GitHub own record of the job' }, latestState: 'success' },
      { id: 8, sha: 'h', payload: payload('web@sha256:8'), latestState: 'failure' },
      { id: 7, sha: 'g', payload: payload('web@sha256:7'), latestState: 'inactive' },
      { id: 6, sha: 'f', payload: payload('web@sha256:6'), latestState: 'inactive' }
    ])
    expect(found).toMatchObject({ id: 7, payload: { images: { web: 'web@sha256:7' } } })
    expect(lastSuccess([{ id: 1, sha: 'a', payload: payload('x'), latestState: 'error' }])).toBeUndefined()
  })
})

describe('releaseImages', () => {
  it('lists each container of the release as pinned, init containers too, the first of a repeated name kept', () => {
    const workload = (name: string, containers: object[], initContainers: object[] = []) => ({
      object: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name },
        spec: { template: { spec: { containers, initContainers } } }
      },
      source: 'app.yaml',
      path: '',
      before: undefined
    })
    const plan = {
      namespace: 'ns',
      objects: [
        workload('a', [{ name: 'web', image: 'r/web@sha256:1' }], [{ name: 'migrate', image: 'r/m:1' }]),
        workload('b', [
          { name: 'web', image: 'r/other:2' },
          { name: 'sidecar', image: 'r/s:3' }
        ]),
        {
          object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } },
          source: 'svc.yaml',
          path: '',
          before: undefined
        }
      ],
      setImage: undefined,
      smokeJob: undefined,
      rules: []
    } as unknown as ReleasePlan
    expect(releaseImages(plan)).toEqual({ web: 'r/web@sha256:1', migrate: 'r/m:1', sidecar: 'r/s:3' })
  })
})

describe('rollout inputs for the record', () => {
  const parse = (given: Record<string, string>) =>
    parseWithDefaults('rollout', parseConfig, { 'github-token': 'ghs_x', ...given })
  const problems = (given: Record<string, string>) =>
    inputProblems('rollout', parseConfig, { 'github-token': 'ghs_x', ...given })

  it('defaults to a record in production when there is a token', () => {
    expect(parse({ manifests: 'k8s/' }).record).toEqual({
      mode: 'auto',
      environment: 'production',
      environmentUrl: undefined,
      token: 'ghs_x',
      rollbackTo: undefined
    })
  })

  it('rollback-to: last-success takes a workload without images, and refuses images, other values and no token', () => {
    expect(parse({ workload: 'deployment/web', 'rollback-to': 'last-success' }).record.rollbackTo).toBe(
      'last-success'
    )
    expect(
      problems({ workload: 'deployment/web', images: 'web=r/web:2', 'rollback-to': 'last-success' })
    ).toEqual(['images: must be empty with rollback-to: the images come from the last successful deployment'])
    expect(problems({ manifests: 'k8s/', 'rollback-to': 'previous' })).toEqual([
      'rollback-to: "previous": the one choice is last-success (or empty)'
    ])
    expect(problems({ manifests: 'k8s/', 'rollback-to': 'last-success', 'github-token': '' })).toEqual([
      'github-token: is required with rollback-to: the last successful deployment is read from GitHub'
    ])
    expect(problems({ manifests: 'k8s/', 'environment-url': 'ftp://x' })).toEqual([
      'environment-url: "ftp://x" is not an http(s) URL'
    ])
  })
})
