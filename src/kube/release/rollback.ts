/**
 * The rollback of a failed release, `kubectl rollout undo` for each workload it changed: the
 * revisions recorded before the change, the pure plans of ../rollback.ts over the history read
 * from the API server, the patch, a StatefulSet's broken pods replaced, and the wait.
 */
import type { V1PodList, V1StatefulSet } from '@kubernetes/client-node'
import type { KubeClient } from '../client.js'
import { KubeClient as Client, describeApiError, sleep } from '../client.js'
import type { ControllerRevision, KubeObject, ReplicaSet, WorkloadKind } from '../objects.js'
import { isWorkload, selectorString } from '../objects.js'
import type { RollbackPlan } from '../rollback.js'
import {
  controllerRevisionRollbackPlan,
  currentControllerRevision,
  deploymentRollbackPlan,
  revisionOf
} from '../rollback.js'
import { waitForRollout, workloadCollection } from '../wait.js'
import type { ReleasePlan } from './plan.js'
import type { RolloutConfig, WorkloadOutcome } from './types.js'

/** What a rollback needs to know: each workload of the release and its revision before the change. */
export async function revisionsBefore(client: KubeClient, plan: ReleasePlan): Promise<WorkloadOutcome[]> {
  const workloads: WorkloadOutcome[] = []
  for (const p of plan.objects.filter(p => isWorkload(p.object))) {
    workloads.push({
      target: {
        kind: p.object.kind as WorkloadKind,
        name: p.object.metadata!.name!,
        namespace: p.object.metadata!.namespace!
      },
      action: 'unchanged',
      previousRevision: p.before ? await revisionNow(client, p.before) : '',
      revision: ''
    })
  }
  if (plan.setImage) {
    workloads.push({
      target: plan.setImage.target,
      action: 'set image',
      previousRevision: await revisionNow(client, plan.setImage.before),
      revision: ''
    })
  }
  return workloads
}

/** The current revision of a workload: the Deployment's annotation, or its ControllerRevision number. */
export async function revisionNow(client: KubeClient, obj: KubeObject | undefined): Promise<string> {
  if (!obj) return ''
  if (obj.kind === 'Deployment') return String(revisionOf(obj) || '')
  const revisions = await listControllerRevisions(client, obj)
  const n = currentControllerRevision(obj, revisions)
  return n ? String(n) : ''
}

async function listControllerRevisions(client: KubeClient, owner: KubeObject): Promise<ControllerRevision[]> {
  const selector = selectorString((owner.spec as { selector?: never } | undefined)?.selector)
  const list = await client.request<{ items?: ControllerRevision[] }>(
    'GET',
    Client.collectionPath('apps/v1', 'controllerrevisions', owner.metadata?.namespace),
    { query: { labelSelector: selector }, retryForMs: 60_000 }
  )
  return list.items ?? []
}

/** Rolls every changed workload back and waits for each. Returns a line per workload it could not restore. */
export async function rollBack(
  client: KubeClient,
  workloads: WorkloadOutcome[],
  config: Pick<RolloutConfig, 'timeoutMs' | 'fieldManager' | 'doom'>,
  deadlineOfRelease: number,
  log: (l: string) => void
): Promise<string[]> {
  const problems: string[] = []
  // The rollback gets its own full budget: a person is better served by a finished rollback.
  const deadline = Math.max(deadlineOfRelease, Date.now()) + config.timeoutMs
  await Promise.all(
    workloads.map(async w => {
      const label = `${w.target.kind.toLowerCase()}/${w.target.name}`
      try {
        const path = `${workloadCollection(w.target.kind, w.target.namespace)}/${w.target.name}`
        const current = await client.request<KubeObject>('GET', path, { retryForMs: 60_000 })
        if (w.action === 'created' || !w.previousRevision) {
          const plan: RollbackPlan = {
            kind: 'impossible',
            description: `${label} was created by this release: there is no previous revision to return to`
          }
          w.rollback = { plan, error: plan.description }
          problems.push(plan.description)
          return
        }
        const toRevision = Number(w.previousRevision) || 0
        let plan: RollbackPlan
        if (w.target.kind === 'Deployment') {
          const rsList = await client.request<{ items?: ReplicaSet[] }>(
            'GET',
            Client.collectionPath('apps/v1', 'replicasets', w.target.namespace),
            {
              query: { labelSelector: selectorString((current.spec as { selector?: never }).selector) },
              retryForMs: 60_000
            }
          )
          plan = deploymentRollbackPlan(current, rsList.items ?? [], toRevision)
        } else {
          plan = controllerRevisionRollbackPlan(
            current,
            await listControllerRevisions(client, current),
            toRevision
          )
        }
        w.rollback = { plan }
        if (plan.kind === 'impossible') {
          w.rollback.error = plan.description
          problems.push(`${label}: ${plan.description}`)
          return
        }
        log(`${label}: ${plan.description}`)
        if (plan.kind === 'patch') {
          await client.request('PATCH', path, {
            query: { fieldManager: config.fieldManager },
            body: plan.patch,
            contentType:
              plan.patchType === 'json'
                ? 'application/json-patch+json'
                : 'application/strategic-merge-patch+json',
            retryForMs: 60_000
          })
          if (w.target.kind === 'StatefulSet')
            await replaceBrokenStatefulSetPods(client, path, current as V1StatefulSet, log)
        }
        const wait = await waitForRollout(client, w.target, {
          deadline,
          policy: config.doom,
          tolerance: config.doom.tolerance,
          log
        })
        w.rollback.wait = wait
        if (wait.verdict.state !== 'complete') {
          w.rollback.error = wait.verdict.reason ?? 'did not complete'
          problems.push(
            `${label}: the rollback to revision ${plan.revision} did not complete: ${w.rollback.error}`
          )
        } else log(`${label}: rolled back to revision ${plan.revision}: ${wait.verdict.status.message}`)
      } catch (err) {
        const e = describeApiError(err, `rolling back ${label}`)
        w.rollback = { plan: { kind: 'impossible', description: e.message }, error: e.message }
        problems.push(`${label}: ${e.message}`)
      }
    })
  )
  return problems
}

/**
 * A StatefulSet never replaces a pod of the failed revision that is not Ready: the documented
 * "forced rollback" deletes those pods once the template is reverted, so that the controller
 * recreates them at the restored revision. Pods that are Ready are left to the rolling update.
 */
async function replaceBrokenStatefulSetPods(
  client: KubeClient,
  path: string,
  before: V1StatefulSet,
  log: (l: string) => void
): Promise<void> {
  const failedRevision = before.status?.updateRevision
  const generation = (before.metadata?.generation ?? 0) + 1
  if (!failedRevision) return
  // Deleting before the controller has seen the reverted template would recreate the broken pod.
  for (let i = 0; i < 100; i++) {
    const sts = await client.request<V1StatefulSet>('GET', path, { retryForMs: 30_000 })
    if ((sts.status?.observedGeneration ?? 0) >= generation && sts.status?.updateRevision !== failedRevision)
      break
    await sleep(100)
  }
  const pods = await client.request<V1PodList>(
    'GET',
    Client.collectionPath('v1', 'pods', before.metadata?.namespace),
    {
      query: {
        labelSelector: `${selectorString(before.spec?.selector)},controller-revision-hash=${failedRevision}`
      },
      retryForMs: 30_000
    }
  )
  for (const pod of pods.items) {
    if (pod.metadata?.deletionTimestamp) continue
    if (pod.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True')) continue
    const name = pod.metadata?.name ?? ''
    if (
      await client.deleteObject(`${Client.collectionPath('v1', 'pods', before.metadata?.namespace)}/${name}`)
    )
      log(
        `statefulset/${before.metadata?.name}: deleted pod ${name} of the failed revision ${failedRevision}; it is recreated at the restored revision`
      )
  }
}
