/**
 * Validation and server-side apply. `planApply` resolves every manifest's kind with API discovery,
 * fills in namespaces, and dry-runs every object on the server (dryRun=All): any problem, in any
 * document, is reported with its file and line and nothing is applied. `applyPlan` then applies
 * the objects in order (namespaces first) with one field manager.
 */
import type { ApiResource, KubeClient } from './client.js'
import { KubeApiError, KubeClient as Client, describeApiError, sleep } from './client.js'
import type { Manifest } from './manifests.js'
import { formatSource } from './manifests.js'
import type { Condition, KubeObject } from './objects.js'
import { condition, describeObject } from './objects.js'

export interface PlannedObject {
  object: KubeObject
  source: string
  /** The object's REST path: /apis/apps/v1/namespaces/ns/deployments/web. */
  path: string
  /** The object as it was before the apply (undefined: it does not exist yet). */
  before: KubeObject | undefined
  /** Forced because the only conflicts were with fields our own rollback wrote. */
  reclaim?: boolean
  /** The kind has a status subresource (a controller reports on it). */
  hasStatus: boolean
  /** Defined by this CRD of the same release: validated and applied once the CRD is established. */
  afterCrd?: string
}

export interface ApplyOptions {
  fieldManager: string
  force: boolean
}

export type ApplyAction = 'created' | 'configured' | 'unchanged'

export interface AppliedObject {
  kind: string
  namespace: string | undefined
  name: string
  action: ApplyAction
  source: string
  after: KubeObject
  before: KubeObject | undefined
  /** Its REST path. */
  path: string
  hasStatus: boolean
}

/** Where each namespace-less object goes, and which kinds go first (what they depend on). */
const APPLY_FIRST = ['Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'ConfigMap', 'Secret']

export async function planApply(
  client: KubeClient,
  manifests: readonly Manifest[],
  defaultNamespace: string,
  options: ApplyOptions
): Promise<{ planned: PlannedObject[]; problems: string[] }> {
  const problems: string[] = []
  const planned: PlannedObject[] = []
  const seen = new Map<string, string>()
  const newNamespaces = new Set(
    manifests
      .filter(m => m.object.kind === 'Namespace' && m.object.apiVersion === 'v1')
      .map(m => m.object.metadata!.name!)
  )

  const releaseCrds = crdsOf(manifests)
  for (const m of manifests) {
    const source = formatSource(m.source)
    const obj = m.object
    let resource: ApiResource | undefined
    try {
      resource = await client.resourceFor(obj.apiVersion!, obj.kind!)
    } catch (err) {
      throw describeApiError(err, `discovering the API of ${obj.apiVersion}`)
    }
    const crd = resource ? undefined : releaseCrds.get(`${obj.apiVersion}/${obj.kind}`)
    if (crd) resource = crd.resource
    if (!resource) {
      problems.push(
        `${source}: unknown kind ${obj.kind} in apiVersion ${obj.apiVersion}: the API server does not serve it (a typo, or a CRD not installed yet?)`
      )
      continue
    }
    if (!resource.verbs.includes('patch')) {
      problems.push(
        `${source}: ${obj.kind} cannot be applied (the API server allows no patch on ${resource.name})`
      )
      continue
    }
    const metadata = (obj.metadata ??= {})
    if (resource.namespaced) metadata.namespace ??= defaultNamespace
    else delete metadata.namespace
    const key = `${obj.apiVersion}/${obj.kind}/${metadata.namespace ?? ''}/${metadata.name}`
    if (seen.has(key)) {
      problems.push(`${source}: ${describeObject(obj)} is also defined at ${seen.get(key)}`)
      continue
    }
    seen.set(key, source)
    const path = `${Client.collectionPath(obj.apiVersion!, resource.name, metadata.namespace)}/${encodeURIComponent(metadata.name!)}`
    planned.push({
      object: obj,
      source,
      path,
      before: undefined,
      hasStatus: resource.status,
      afterCrd: crd?.name
    })
  }
  if (problems.length > 0) return { planned: [], problems }

  // Read the current objects and dry-run the apply of each, all concurrently (bounded).
  await forEachLimit(planned, 8, async p => {
    // Its kind is served once its CRD (in this release) is established; applyPlan dry-runs it then.
    if (p.afterCrd) return
    try {
      p.before = await client.request<KubeObject>('GET', p.path, { retryForMs: 30_000 })
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) {
        if (err instanceof KubeApiError && err.status === 403)
          throw describeApiError(err, `reading ${describeObject(p.object)}`)
        problems.push(`${p.source}: reading ${describeObject(p.object)}: ${(err as Error).message}`)
        return
      }
    }
    try {
      try {
        await applyObject(client, p, options, true)
      } catch (err) {
        if (!ownRollbackConflict(err, options.fieldManager)) throw err
        // A rollback writes the template with a patch (an Update under our manager name), which
        // server-side apply counts as another owner: taking those fields back is the intent.
        p.reclaim = true
        await applyObject(client, p, options, true)
      }
    } catch (err) {
      const ns = p.object.metadata?.namespace
      // An object in a namespace created by this same release cannot be dry-run before it exists.
      if (
        err instanceof KubeApiError &&
        err.status === 404 &&
        ns &&
        newNamespaces.has(ns) &&
        /namespaces? .*not found/i.test(err.message)
      )
        return
      if (err instanceof KubeApiError && err.status === 403)
        throw describeApiError(err, `validating ${describeObject(p.object)} (server-side dry-run)`)
      problems.push(`${p.source}: ${describeObject(p.object)}: ${applyErrorText(err, options)}`)
    }
  })
  planned.sort((a, b) => rank(a.object) - rank(b.object))
  return { planned: problems.length ? [] : planned, problems }
}

/**
 * True when a 409 names only our own field manager as the other owner: fields a rollback of ours
 * wrote with a patch (operation Update), which server-side apply (operation Apply) sees as foreign.
 */
export function ownRollbackConflict(err: unknown, fieldManager: string): boolean {
  if (!(err instanceof KubeApiError) || err.status !== 409) return false
  const causes = err.apiStatus.details?.causes ?? []
  const texts = causes.length ? causes.map(c => c.message ?? '') : [err.message]
  const managers = texts.flatMap(t => [...t.matchAll(/conflicts? with "([^"]+)"/g)].map(m => m[1]))
  return managers.length > 0 && managers.every(m => m === fieldManager)
}

function rank(obj: KubeObject): number {
  const i = APPLY_FIRST.indexOf(obj.kind ?? '')
  return i === -1 ? APPLY_FIRST.length : i
}

function applyErrorText(err: unknown, options: ApplyOptions): string {
  if (err instanceof KubeApiError) {
    const causes = (err.apiStatus.details?.causes ?? []).map(
      c => `${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? ''}`
    )
    const conflict =
      err.status === 409 && !options.force ? ' (set force-conflicts: true to take these fields over)' : ''
    return `${err.message}${conflict}${causes.length > 1 ? `; ${causes.join('; ')}` : ''}`
  }
  return (err as Error).message
}

async function applyObject(
  client: KubeClient,
  p: PlannedObject,
  options: ApplyOptions,
  dryRun: boolean
): Promise<KubeObject> {
  return client.request<KubeObject>('PATCH', p.path, {
    query: {
      fieldManager: options.fieldManager,
      force: options.force || p.reclaim ? true : undefined,
      dryRun: dryRun ? 'All' : undefined
    },
    body: p.object,
    contentType: 'application/apply-patch+yaml',
    retryForMs: 30_000
  })
}

/**
 * Applies the validated plan in order. A failure here (rare after the dry-run: an object in a
 * namespace the release creates, a change made meanwhile) stops the apply; it throws a
 * PartialApplyError that holds what was applied before it, for the rollback.
 */
export async function applyPlan(
  client: KubeClient,
  planned: readonly PlannedObject[],
  options: ApplyOptions,
  log: (line: string) => void
): Promise<AppliedObject[]> {
  const applied: AppliedObject[] = []
  const established = new Set<string>()
  for (const p of planned) {
    let after: KubeObject
    try {
      if (p.afterCrd && !established.has(p.afterCrd)) {
        await waitEstablished(client, p.afterCrd, log)
        established.add(p.afterCrd)
        client.forgetDiscovery(p.object.apiVersion!)
      }
      if (p.afterCrd) await applyObject(client, p, options, true)
      after = await applyObject(client, p, options, false)
    } catch (err) {
      const error = describeApiError(
        err,
        `applying ${describeObject(p.object)} (${p.source}) after ${applied.length} of ${planned.length} objects`
      )
      throw applied.length ? new PartialApplyError(error, applied) : error
    }
    const action: ApplyAction = !p.before
      ? 'created'
      : p.before.metadata?.resourceVersion === after.metadata?.resourceVersion
        ? 'unchanged'
        : 'configured'
    log(
      `${describeObject(after)} ${action}${p.reclaim ? ' (took back fields our previous rollback wrote)' : ''}`
    )
    applied.push({
      kind: after.kind ?? p.object.kind!,
      namespace: after.metadata?.namespace,
      name: after.metadata?.name ?? p.object.metadata!.name!,
      action,
      source: p.source,
      after,
      before: p.before,
      path: p.path,
      hasStatus: p.hasStatus
    })
  }
  return applied
}

/** The kinds the release's own CRDs define, by `apiVersion/kind`, with the REST resource each will have. */
function crdsOf(manifests: readonly Manifest[]): Map<string, { name: string; resource: ApiResource }> {
  const kinds = new Map<string, { name: string; resource: ApiResource }>()
  for (const m of manifests) {
    const o = m.object
    if (o.kind !== 'CustomResourceDefinition' || !o.apiVersion?.startsWith('apiextensions.k8s.io/')) continue
    const spec = (o.spec ?? {}) as {
      group?: string
      scope?: string
      names?: { plural?: string; kind?: string }
      versions?: { name: string; served?: boolean; subresources?: { status?: unknown } }[]
    }
    if (!spec.group || !spec.names?.plural || !spec.names.kind) continue
    for (const v of spec.versions ?? []) {
      if (v.served === false) continue
      kinds.set(`${spec.group}/${v.name}/${spec.names.kind}`, {
        name: o.metadata?.name ?? `${spec.names.plural}.${spec.group}`,
        resource: {
          name: spec.names.plural,
          namespaced: spec.scope !== 'Cluster',
          verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
          status: v.subresources?.status !== undefined
        }
      })
    }
  }
  return kinds
}

/** Polls a CRD until the API server has established it (its kind is then served), up to a minute. */
async function waitEstablished(client: KubeClient, name: string, log: (line: string) => void): Promise<void> {
  const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(name)}`
  const until = Date.now() + 60_000
  for (;;) {
    const crd = await client.request<KubeObject>('GET', path, { retryForMs: 30_000 })
    const conditions = ((crd.status as { conditions?: Condition[] } | undefined)?.conditions ??
      []) as Condition[]
    if (condition(conditions, 'Established')?.status === 'True') {
      log(`CustomResourceDefinition ${name} established`)
      return
    }
    const names = condition(conditions, 'NamesAccepted')
    if (names?.status === 'False')
      throw new Error(`CustomResourceDefinition ${name}: names not accepted: ${names.message ?? ''}`)
    if (Date.now() > until) throw new Error(`CustomResourceDefinition ${name} was not established within 60s`)
    await sleep(200)
  }
}

/** The apply stopped part-way: `applied` were changed before `error`. */
export class PartialApplyError extends Error {
  constructor(
    readonly error: Error,
    readonly applied: AppliedObject[]
  ) {
    super(error.message)
  }
}

export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>
): Promise<void> {
  let next = 0
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!)
  })
  await Promise.all(workers)
}
