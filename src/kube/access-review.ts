/**
 * Whether the credentials may do what a release needs, asked before anything changes: one
 * SelfSubjectAccessReview per verb and resource. The one-step action asks it before it builds, so a
 * deployer that may not watch pods or roll back learns it before an image is pushed.
 */
import { ActionError } from '../runtime/index.js'
import type { PlannedObject } from './apply.js'
import type { KubeClient } from './client.js'
import { describeApiError } from './client.js'

export interface AccessNeed {
  verb: string
  group: string
  resource: string
  namespace?: string
  /** What the release does with it, for the error. */
  why: string
}

/** The group, resource and namespace of an object's REST path. Pure. */
export function resourceOfPath(path: string): { group: string; resource: string; namespace?: string } {
  const parts = path.split('/').filter(Boolean)
  // /api/v1/... or /apis/<group>/<version>/...
  const rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3)
  const group = parts[0] === 'api' ? '' : (parts[1] ?? '')
  if (rest[0] === 'namespaces' && rest.length >= 3) return { group, resource: rest[2]!, namespace: rest[1] }
  return { group, resource: rest[0] ?? '' }
}

const WORKLOAD_RESOURCES = ['deployments', 'statefulsets', 'daemonsets']

/**
 * What a release of these objects needs: apply each (get, patch; create when new), follow each
 * workload's pods, ReplicaSets or ControllerRevisions and events, read logs for the diagnostics,
 * and roll back (a patch; a StatefulSet's broken pods deleted); the smoke Job is created, watched
 * and deleted. Pure.
 */
export function releaseAccessNeeds(
  planned: readonly Pick<PlannedObject, 'path' | 'before'>[],
  options: { rollback: boolean; smokeJobNamespace?: string }
): AccessNeed[] {
  const needs = new Map<string, AccessNeed>()
  const add = (n: AccessNeed) => {
    const key = `${n.verb} ${n.group}/${n.resource} ${n.namespace ?? ''}`
    if (!needs.has(key)) needs.set(key, n)
  }
  for (const p of planned) {
    const r = resourceOfPath(p.path)
    add({ verb: 'get', ...r, why: 'read before applying' })
    add({ verb: 'patch', ...r, why: 'server-side apply' })
    if (!p.before) add({ verb: 'create', ...r, why: 'create with server-side apply' })
    const workload = r.group === 'apps' && WORKLOAD_RESOURCES.includes(r.resource)
    // The rollback writes a configured object back and deletes a created one (Namespaces and CRDs are kept).
    if (options.rollback && p.before && !workload)
      add({ verb: 'update', ...r, why: 'restore it in a rollback' })
    if (options.rollback && !p.before && !['namespaces', 'customresourcedefinitions'].includes(r.resource))
      add({ verb: 'delete', ...r, why: 'delete what the release created, in a rollback' })
    if (r.group === 'batch' && r.resource === 'jobs') {
      add({ verb: 'watch', ...r, why: 'wait for the Job' })
      add({ verb: 'list', group: '', resource: 'pods', namespace: r.namespace, why: 'watch the Job’s pods' })
      add({ verb: 'watch', group: '', resource: 'pods', namespace: r.namespace, why: 'watch the Job’s pods' })
    }
    if (workload) {
      const ns = r.namespace
      add({ verb: 'watch', ...r, why: 'wait for the rollout' })
      add({ verb: 'list', group: '', resource: 'pods', namespace: ns, why: 'watch the new pods' })
      add({ verb: 'watch', group: '', resource: 'pods', namespace: ns, why: 'watch the new pods' })
      add({
        verb: 'get',
        group: '',
        resource: 'pods/log',
        namespace: ns,
        why: 'show a failing container’s log'
      })
      add({ verb: 'list', group: '', resource: 'events', namespace: ns, why: 'explain a failing pod' })
      add({
        verb: 'watch',
        group: '',
        resource: 'events',
        namespace: ns,
        why: 'see a slow pod’s progress (image pulls, a node being added)'
      })
      if (r.resource === 'deployments')
        add({
          verb: 'list',
          group: 'apps',
          resource: 'replicasets',
          namespace: ns,
          why: 'find the new ReplicaSet'
        })
      else
        add({
          verb: 'list',
          group: 'apps',
          resource: 'controllerrevisions',
          namespace: ns,
          why: 'find the previous revision'
        })
      // The rollback patches the template back (patch is asked above); a StatefulSet's broken pods are deleted.
      if (options.rollback && r.resource === 'statefulsets')
        add({
          verb: 'delete',
          group: '',
          resource: 'pods',
          namespace: ns,
          why: 'replace broken pods in a rollback'
        })
    }
  }
  if (options.smokeJobNamespace !== undefined) {
    const ns = options.smokeJobNamespace
    for (const verb of ['create', 'watch', 'delete'])
      add({ verb, group: 'batch', resource: 'jobs', namespace: ns, why: 'run the smoke Job' })
  }
  return [...needs.values()]
}

/** Asks the API server about every need at once; throws one error listing those denied. */
export async function checkAccess(client: KubeClient, needs: readonly AccessNeed[]): Promise<void> {
  const denied: AccessNeed[] = []
  await Promise.all(
    needs.map(async need => {
      const [resource, subresource] = need.resource.split('/')
      let review: { status?: { allowed?: boolean } }
      try {
        review = await client.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: {
              resourceAttributes: {
                verb: need.verb,
                group: need.group,
                resource,
                subresource,
                namespace: need.namespace
              }
            }
          },
          retryForMs: 30_000
        })
      } catch (err) {
        throw describeApiError(err, 'checking the deployer’s permissions (SelfSubjectAccessReview)')
      }
      if (!review.status?.allowed) denied.push(need)
    })
  )
  if (denied.length === 0) return
  const line = (n: AccessNeed) =>
    `${n.verb} ${n.resource}${n.group ? `.${n.group}` : ''} ${n.namespace ? `in namespace ${n.namespace}` : 'at cluster scope'} (to ${n.why})`
  throw new ActionError(
    `Forbidden: the credentials may not ${line(denied[0]!)}${denied.length > 1 ? `, and ${denied.length - 1} more` : ''}`,
    {
      hint: 'Grant these verbs to the deployer (a Role and RoleBinding), or use credentials that have them; nothing was built or changed.',
      details: denied.map(line)
    }
  )
}
