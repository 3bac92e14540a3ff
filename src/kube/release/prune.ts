/**
 * The ApplySet of a release, against the API server: its parent Secret read before the release
 * (validation), written with the union of the old and new group-kinds before the apply (so an
 * interrupted release can still be pruned later, as kubectl does), and, once the release is
 * verified, the prune: every member of an earlier release that this one no longer has is deleted,
 * then the parent is narrowed to what the release holds.
 */
import type { KubeClient } from '../client.js'
import { KubeApiError, KubeClient as Client, describeApiError } from '../client.js'
import type { KubeObject } from '../objects.js'
import { describeObject } from '../objects.js'
import {
  ADDITIONAL_NAMESPACES,
  GROUP_KINDS,
  PART_OF,
  applySetId,
  groupKindOf,
  memberKey,
  parentManifest,
  parentProblem,
  pruneCandidates,
  splitList
} from '../applyset.js'

export interface ApplySetPlan {
  name: string
  namespace: string
  id: string
  path: string
  /** What the parent said before this release: the group-kinds and namespaces of its members. */
  previous: { groupKinds: string[]; namespaces: string[] }
  prune: boolean
}

/** Reads the parent (validation): the plan, or why it cannot be used. */
export async function readApplySet(
  client: KubeClient,
  name: string,
  namespace: string,
  prune: boolean
): Promise<{ plan?: ApplySetPlan; problem?: string }> {
  const id = applySetId(name, namespace)
  const path = `${Client.collectionPath('v1', 'secrets', namespace)}/${encodeURIComponent(name)}`
  let live: KubeObject | undefined
  try {
    live = await client.request<KubeObject>('GET', path, { retryForMs: 30_000 })
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 404))
      throw describeApiError(err, `reading the ApplySet parent Secret ${namespace}/${name}`)
  }
  const problem = parentProblem(live, id)
  if (problem) return { problem: `applyset: Secret ${namespace}/${name} ${problem}` }
  const annotations = live?.metadata?.annotations ?? {}
  return {
    plan: {
      name,
      namespace,
      id,
      path,
      previous: {
        groupKinds: splitList(annotations[GROUP_KINDS]),
        namespaces: [namespace, ...splitList(annotations[ADDITIONAL_NAMESPACES])]
      },
      prune
    }
  }
}

function spans(objects: readonly KubeObject[]): { groupKinds: string[]; namespaces: string[] } {
  return {
    groupKinds: objects.map(groupKindOf),
    namespaces: objects.map(o => o.metadata?.namespace ?? '').filter(Boolean)
  }
}

/** Writes the parent so that it covers the old members and the new ones (before the apply). */
export async function writeParent(
  client: KubeClient,
  plan: ApplySetPlan,
  objects: readonly KubeObject[],
  fieldManager: string,
  narrow = false
): Promise<void> {
  const now = spans(objects)
  const groupKinds = narrow ? now.groupKinds : [...plan.previous.groupKinds, ...now.groupKinds]
  const namespaces = narrow ? now.namespaces : [...plan.previous.namespaces, ...now.namespaces]
  await client.request('PATCH', plan.path, {
    query: { fieldManager, force: true },
    body: parentManifest(plan.name, plan.namespace, groupKinds, namespaces),
    contentType: 'application/apply-patch+yaml',
    retryForMs: 30_000
  })
}

export interface PruneReport {
  pruned: string[]
  problems: string[]
}

/** Deletes the members no longer in the release, then narrows the parent to the release. */
export async function pruneApplySet(
  client: KubeClient,
  plan: ApplySetPlan,
  objects: readonly KubeObject[],
  fieldManager: string,
  log: (line: string) => void
): Promise<PruneReport> {
  const report: PruneReport = { pruned: [], problems: [] }
  const current = new Set(objects.map(memberKey))
  const now = spans(objects)
  const namespaces = [...new Set([...plan.previous.namespaces, ...now.namespaces])]
  const versions = new Map(objects.map(o => [groupKindOf(o), o.apiVersion ?? '']))
  for (const gk of new Set([...plan.previous.groupKinds, ...now.groupKinds])) {
    const [kind, ...groupParts] = gk.split('.')
    const group = groupParts.join('.')
    try {
      const apiVersion = versions.get(gk) ?? (await preferredVersion(client, group))
      const resource = apiVersion ? await client.resourceFor(apiVersion, kind!) : undefined
      if (!resource) continue // the kind is no longer served: nothing of it can be left
      const scopes = resource.namespaced ? namespaces : [undefined]
      for (const ns of scopes) {
        const collection = Client.collectionPath(apiVersion!, resource.name, ns)
        const list = await client.request<{ items?: KubeObject[] }>('GET', collection, {
          query: { labelSelector: `${PART_OF}=${plan.id}` },
          retryForMs: 30_000
        })
        const items = (list.items ?? []).map(i => ({ ...i, apiVersion, kind }))
        for (const o of pruneCandidates(items, plan.id, current)) {
          const name = o.metadata?.name ?? ''
          try {
            if (!(await client.deleteObject(`${collection}/${encodeURIComponent(name)}`))) continue
            report.pruned.push(describeObject(o))
            log(`${describeObject(o)} pruned: an earlier release applied it, this one does not`)
          } catch (err) {
            report.problems.push(
              `pruning ${describeObject(o)}: ${describeApiError(err, 'deleting it').message}`
            )
          }
        }
      }
    } catch (err) {
      report.problems.push(`pruning ${gk}: ${describeApiError(err, `listing ${gk}`).message}`)
    }
  }
  if (report.problems.length === 0) await writeParent(client, plan, objects, fieldManager, true)
  return report
}

async function preferredVersion(client: KubeClient, group: string): Promise<string | undefined> {
  if (!group) return 'v1'
  try {
    const g = await client.request<{ preferredVersion?: { groupVersion?: string } }>(
      'GET',
      `/apis/${group}`,
      {
        retryForMs: 30_000
      }
    )
    return g.preferredVersion?.groupVersion
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined
    throw err
  }
}
