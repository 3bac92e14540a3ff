import { releaseAccessNeeds, resourceOfPath } from '../../src/kube/access-review.js'

describe('the permissions a release needs', () => {
  it('reads group, resource and namespace from REST paths', () => {
    expect(resourceOfPath('/apis/apps/v1/namespaces/web/deployments/api')).toEqual({
      group: 'apps',
      resource: 'deployments',
      namespace: 'web'
    })
    expect(resourceOfPath('/api/v1/namespaces/web/configmaps/cfg')).toEqual({
      group: '',
      resource: 'configmaps',
      namespace: 'web'
    })
    expect(resourceOfPath('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.example.com')).toEqual({
      group: 'apiextensions.k8s.io',
      resource: 'customresourcedefinitions'
    })
  })

  it('asks for create only for new objects, for the rollout, diagnostics and smoke Job verbs, and for the rollback: update what it restores, delete what it created', () => {
    const needs = releaseAccessNeeds(
      [
        { path: '/api/v1/namespaces/web/configmaps/cfg', before: undefined },
        { path: '/api/v1/namespaces/web/services/api', before: { kind: 'Service' } },
        { path: '/apis/apps/v1/namespaces/web/deployments/api', before: { kind: 'Deployment' } }
      ],
      { rollback: true, smokeJobNamespace: 'web' }
    )
    const keys = needs.map(n => `${n.verb} ${n.group ? `${n.group}/` : ''}${n.resource}`)
    expect(keys).toEqual([
      'get configmaps',
      'patch configmaps',
      'create configmaps',
      'delete configmaps',
      'get services',
      'patch services',
      'update services',
      'get apps/deployments',
      'patch apps/deployments',
      'watch apps/deployments',
      'list pods',
      'watch pods',
      'get pods/log',
      'list events',
      'watch events',
      'list apps/replicasets',
      'create batch/jobs',
      'watch batch/jobs',
      'delete batch/jobs'
    ])
    expect(needs.every(n => n.namespace === 'web')).toBe(true)
    const noRollback = releaseAccessNeeds(
      [{ path: '/apis/apps/v1/namespaces/web/statefulsets/db', before: { kind: 'StatefulSet' } }],
      { rollback: false }
    ).map(n => `${n.verb} ${n.resource}`)
    expect(noRollback).toContain('list controllerrevisions')
    expect(noRollback).not.toContain('delete pods')
    expect(
      releaseAccessNeeds([{ path: '/apis/apps/v1/namespaces/web/statefulsets/db', before: undefined }], {
        rollback: true
      }).map(n => `${n.verb} ${n.resource}`)
    ).toContain('delete pods')
  })
})
