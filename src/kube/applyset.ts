/**
 * ApplySets (KEP-3659, the labels `kubectl apply --prune --applyset` uses): every object of a
 * release carries `applyset.kubernetes.io/part-of: <id>`, and a parent Secret in the release's
 * namespace carries the id and the group-kinds (and other namespaces) its members may be in. With
 * that, `prune` can find the objects an earlier release applied and this one no longer has, and
 * kubectl (or any tool) can list the set. The id, labels and prune choice are pure; the calls to
 * the API server are in release/prune.ts.
 */
import { createHash } from 'node:crypto'
import type { KubeObject } from './objects.js'
import { groupOf } from './objects.js'

export const PART_OF = 'applyset.kubernetes.io/part-of'
export const APPLYSET_ID = 'applyset.kubernetes.io/id'
export const TOOLING = 'applyset.kubernetes.io/tooling'
export const GROUP_KINDS = 'applyset.kubernetes.io/contains-group-kinds'
export const ADDITIONAL_NAMESPACES = 'applyset.kubernetes.io/additional-namespaces'
/** What this suite writes in the tooling annotation (name/version, as the KEP asks). */
export const OUR_TOOLING = 'otlp-deploy-actions/v1'

/** The KEP's id: `applyset-` + base64url(sha256(name.namespace.kind.group)) + `-v1`. */
export function applySetId(name: string, namespace: string, kind = 'Secret', group = ''): string {
  const hash = createHash('sha256').update([name, namespace, kind, group].join('.')).digest('base64url')
  return `applyset-${hash}-v1`
}

/** `Deployment.apps`, `ConfigMap`: a group-kind as the annotation spells it. */
export function groupKindOf(obj: Pick<KubeObject, 'apiVersion' | 'kind'>): string {
  const group = groupOf(obj.apiVersion)
  return group ? `${obj.kind}.${group}` : (obj.kind ?? '')
}

export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(Boolean)
}

export function joinList(values: Iterable<string>): string {
  return [...new Set(values)].sort().join(',')
}

/** Labels every object as a member of the set (objects are the release's own copies). */
export function labelMembers(objects: readonly KubeObject[], id: string): void {
  for (const o of objects) {
    const metadata = (o.metadata ??= {})
    metadata.labels = { ...(metadata.labels ?? {}), [PART_OF]: id }
  }
}

/** The parent Secret, server-side applied: its id label and what its members span. */
export function parentManifest(
  name: string,
  namespace: string,
  groupKinds: Iterable<string>,
  namespaces: Iterable<string>
): KubeObject {
  const others = [...new Set(namespaces)].filter(n => n && n !== namespace)
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name,
      namespace,
      labels: { [APPLYSET_ID]: applySetId(name, namespace) },
      annotations: {
        [TOOLING]: OUR_TOOLING,
        [GROUP_KINDS]: joinList(groupKinds),
        ...(others.length ? { [ADDITIONAL_NAMESPACES]: joinList(others) } : {})
      }
    }
  }
}

/** Why an existing parent cannot be used ('' when it can): another tool manages it, or it is not a parent. */
export function parentProblem(live: KubeObject | undefined, id: string): string {
  if (!live) return ''
  const labels = live.metadata?.labels ?? {}
  const annotations = live.metadata?.annotations ?? {}
  const tooling = annotations[TOOLING]
  if (tooling && !tooling.startsWith('otlp-deploy-actions/'))
    return `is the parent of an ApplySet managed by ${tooling}; give this release its own applyset name`
  if (labels[APPLYSET_ID] && labels[APPLYSET_ID] !== id)
    return `carries another ApplySet id (${labels[APPLYSET_ID]})`
  if (!labels[APPLYSET_ID] && Object.keys((live.data as object | undefined) ?? {}).length > 0)
    return 'exists and holds data: it is not an ApplySet parent; choose another applyset name'
  return ''
}

/** The members an earlier release left that this one no longer has (keys: group-kind/namespace/name). */
export function pruneCandidates(
  listed: readonly KubeObject[],
  id: string,
  current: ReadonlySet<string>
): KubeObject[] {
  return listed.filter(
    o => o.metadata?.labels?.[PART_OF] === id && !o.metadata?.deletionTimestamp && !current.has(memberKey(o))
  )
}

export function memberKey(o: KubeObject): string {
  return `${groupKindOf(o)}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`
}
