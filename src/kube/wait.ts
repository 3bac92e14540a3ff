/**
 * Waits for one workload's rollout with watches (the workload, its ReplicaSets for a Deployment,
 * its pods), judging every change with the pure `waitVerdict`. Prints a progress line whenever the
 * counts change. Ends on complete, failed (doomed pods, progress deadline, paused) or the deadline.
 */
import type { KubeClient } from './client.js'
import { KubeClient as Client } from './client.js'
import type { DoomPolicy } from './doom.js'
import { Informer } from './informer.js'
import type { KubeObject, LabelSelector, Pod, ReplicaSet, WorkloadKind } from './objects.js'
import { selectorString } from './objects.js'
import { progressLine } from './status.js'
import type { WaitVerdict } from './verdict.js'
import { waitVerdict } from './verdict.js'

export interface WaitTarget {
  kind: WorkloadKind
  name: string
  namespace: string
}

export interface WaitOptions {
  deadline: number
  policy: DoomPolicy
  tolerance: number
  log: (line: string) => void
  /** Time between progress lines that repeat an unchanged state. */
  heartbeatMs?: number
  /** Ends the wait early (another workload of the release failed); the verdict stays `waiting`. */
  signal?: AbortSignal
}

export interface WaitResult {
  verdict: WaitVerdict
  timedOut: boolean
  workload: KubeObject | undefined
  replicaSets: ReplicaSet[]
  pods: Pod[]
  /** When the verdict was reached (epoch ms). */
  at: number
  relists: number
  reconnects: number
}

const RESOURCES: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets'
}

export async function waitForRollout(
  client: KubeClient,
  target: WaitTarget,
  options: WaitOptions
): Promise<WaitResult> {
  const label = `${target.kind.toLowerCase()}/${target.name}`
  const workloadPath = Client.collectionPath('apps/v1', RESOURCES[target.kind], target.namespace)
  let lastLine = ''
  let lastPrinted = 0
  let resolveDone!: (r: { verdict: WaitVerdict; timedOut: boolean }) => void
  const done = new Promise<{ verdict: WaitVerdict; timedOut: boolean }>(r => (resolveDone = r))
  let finished = false
  let selector: string | undefined
  let podInformer: Informer<Pod> | undefined
  let rsInformer: Informer<ReplicaSet> | undefined
  let lastVerdict: WaitVerdict | undefined

  const evaluate = () => {
    if (finished) return
    const fatal = workloadInformer.fatal ?? podInformer?.fatal ?? rsInformer?.fatal
    const workload = workloadInformer.items.get(target.name)
    const verdict = waitVerdict(
      { workload, replicaSets: rsInformer?.objects ?? [], pods: podInformer?.objects ?? [] },
      options.policy,
      options.tolerance,
      Date.now()
    )
    lastVerdict = verdict
    if (fatal) {
      finished = true
      resolveDone({
        verdict: { ...verdict, state: 'failed', reason: `watching ${label} failed: ${fatal.message}` },
        timedOut: false
      })
      return
    }
    const line =
      verdict.state === 'waiting'
        ? `${label}: ${progressLine(verdict.status)} (${verdict.status.message})`
        : ''
    if (line && (line !== lastLine || Date.now() - lastPrinted > (options.heartbeatMs ?? 15_000))) {
      options.log(line)
      lastLine = line
      lastPrinted = Date.now()
    }
    if (verdict.state !== 'waiting') {
      finished = true
      resolveDone({ verdict, timedOut: false })
    }
  }

  const notice = (m: string) => options.log(`${label}: ${m}`)
  const workloadInformer = new Informer<KubeObject>(client, workloadPath, {
    fieldSelector: `metadata.name=${target.name}`,
    onChange: () => {
      // The pod and ReplicaSet watches need the selector, known once the workload is seen.
      const sel = (workloadInformer.items.get(target.name)?.spec as { selector?: LabelSelector } | undefined)
        ?.selector
      if (sel && selector === undefined) {
        selector = selectorString(sel)
        startDependents()
      }
      evaluate()
    },
    onNotice: notice
  })
  const startDependents = () => {
    podInformer = new Informer<Pod>(client, Client.collectionPath('v1', 'pods', target.namespace), {
      labelSelector: selector,
      onChange: evaluate,
      onNotice: notice
    })
    const starts = [podInformer.start()]
    if (target.kind === 'Deployment') {
      rsInformer = new Informer<ReplicaSet>(
        client,
        Client.collectionPath('apps/v1', 'replicasets', target.namespace),
        {
          labelSelector: selector,
          onChange: evaluate,
          onNotice: notice
        }
      )
      starts.push(rsInformer.start())
    }
    Promise.all(starts).catch(err => {
      if (!finished) {
        finished = true
        resolveDone({
          verdict: {
            ...(lastVerdict ?? placeholder()),
            state: 'failed',
            reason: `watching ${label} failed: ${(err as Error).message}`
          },
          timedOut: false
        })
      }
    })
  }

  const ticker = setInterval(evaluate, 1000)
  const timer = setTimeout(
    () => {
      if (finished) return
      finished = true
      const v = lastVerdict ?? placeholder()
      resolveDone({
        verdict: { ...v, state: 'failed', reason: `timed out waiting for ${label}: ${v.status.message}` },
        timedOut: true
      })
    },
    Math.max(0, options.deadline - Date.now())
  )
  const stop = () => {
    if (finished) return
    finished = true
    resolveDone({ verdict: lastVerdict ?? placeholder(), timedOut: false })
  }
  if (options.signal?.aborted) stop()
  options.signal?.addEventListener('abort', stop, { once: true })
  try {
    await workloadInformer.start()
    evaluate()
    const { verdict, timedOut } = await done
    const at = Date.now()
    return {
      verdict,
      timedOut,
      workload: workloadInformer.items.get(target.name),
      replicaSets: rsInformer?.objects ?? [],
      pods: podInformer?.objects ?? [],
      at,
      relists: workloadInformer.relists + (podInformer?.relists ?? 0) + (rsInformer?.relists ?? 0),
      reconnects: workloadInformer.reconnects + (podInformer?.reconnects ?? 0) + (rsInformer?.reconnects ?? 0)
    }
  } finally {
    finished = true
    options.signal?.removeEventListener('abort', stop)
    clearInterval(ticker)
    clearTimeout(timer)
    workloadInformer.stop()
    podInformer?.stop()
    rsInformer?.stop()
  }
}

function placeholder(): WaitVerdict {
  return {
    state: 'waiting',
    status: { message: 'no status seen yet', done: false },
    newPods: [],
    doom: { doomed: [], failed: false }
  }
}
