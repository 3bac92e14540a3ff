/**
 * Waiting for a condition on watched objects, the one loop behind the workload waits and the smoke
 * Job: an informer on one collection (and, once its objects tell where, on related ones), a pure
 * decision over what they hold taken again on every change and every second (a decision may depend
 * on the time), a deadline and an abort signal.
 */
import type { KubeClient } from '../client.js'
import { Informer } from '../informer.js'
import type { KubeObject } from '../objects.js'

/** One collection to watch: its REST path and the selectors that narrow it. */
export interface Watch {
  path: string
  labelSelector?: string
  fieldSelector?: string
  /** Evidence the decision can do without (events): a watch that is refused or breaks is dropped, with a notice. */
  optional?: boolean
}

/** What the objects say at one instant: keep waiting, or the end of the wait. */
export type Decision<V> =
  | { state: 'pending'; value?: V }
  | { state: 'done'; value: V }
  | { state: 'failed'; reason: string; value?: V }

export interface WaitForOptions<T, R extends Record<string, unknown[]>, V> {
  watch: Watch
  /** The collections the decision also needs, once the watched objects tell where (a selector). */
  related?: (watched: T[]) => { [K in keyof R]?: Watch } | undefined
  decide: (watched: T[], related: Partial<R>, now: number) => Decision<V>
  /** Sees every decision while the watches are healthy (progress lines). */
  onDecision?: (decision: Decision<V>) => void
  /** Reconnects and re-lists, for the log. */
  onNotice?: (message: string) => void
  /** Epoch ms. */
  deadline: number
  /** Ends the wait early, with the last decision. */
  signal?: AbortSignal
}

/** How a wait ended: a decision that is not pending, the deadline, the signal, or a broken watch. */
export type WaitEnd = { end: 'decided' | 'timed out' | 'aborted' } | { end: 'watch failed'; error: Error }

export type WaitForResult<T, R extends Record<string, unknown[]>, V> = WaitEnd & {
  /** The last decision taken; none when the wait ended before the first list. */
  decision: Decision<V> | undefined
  watched: T[]
  related: Partial<R>
  /** When the wait ended (epoch ms). */
  at: number
  relists: number
  reconnects: number
}

/** Watches until a decision is not pending, the deadline passes, the signal aborts or a watch cannot go on. */
export async function waitFor<
  T = KubeObject,
  R extends Record<string, unknown[]> = Record<never, never>,
  V = T
>(client: KubeClient, options: WaitForOptions<T, R, V>): Promise<WaitForResult<T, R, V>> {
  let decision: Decision<V> | undefined
  let finished = false
  let resolveEnd!: (end: WaitEnd) => void
  const ending = new Promise<WaitEnd>(r => (resolveEnd = r))
  const finish = (end: WaitEnd) => {
    if (finished) return
    finished = true
    resolveEnd(end)
  }
  const related = new Map<string, Informer>()
  const optionalKeys = new Set<string>()
  const informers = () => [watched, ...related.values()]
  // An informer holds what its watch selects: the caller names those kinds.
  const watchedObjects = () => watched.objects as T[]
  const relatedObjects = () =>
    Object.fromEntries([...related].map(([key, informer]) => [key, informer.objects])) as Partial<R>

  const evaluate = () => {
    if (finished) return
    for (const [key, informer] of related) {
      if (!optionalKeys.has(key) || !informer.fatal) continue
      options.onNotice?.(`going on without ${key}: ${informer.fatal.message}`)
      informer.stop()
      related.delete(key)
    }
    const fatal = informers().find(i => i.fatal)?.fatal
    decision = options.decide(watchedObjects(), relatedObjects(), Date.now())
    if (fatal) return finish({ end: 'watch failed', error: fatal })
    options.onDecision?.(decision)
    if (decision.state !== 'pending') finish({ end: 'decided' })
  }
  const newInformer = ({ path, ...selectors }: Watch, onChange: () => void) =>
    new Informer(client, path, { ...selectors, onChange, onNotice: options.onNotice })
  // Started once, as soon as the watched objects tell where the related ones are.
  const startRelated = () => {
    const watches = related.size || finished ? undefined : options.related?.(watchedObjects())
    if (!watches) return
    const starts: Promise<void>[] = []
    for (const [key, watch] of Object.entries(watches)) {
      if (!watch) continue
      const informer = newInformer(watch, evaluate)
      related.set(key, informer)
      if (watch.optional) {
        optionalKeys.add(key)
        // Its list failing is the same as its watch failing: the next evaluation drops it.
        starts.push(
          informer.start().catch((err: Error) => {
            informer.fatal ??= err
            evaluate()
          })
        )
      } else starts.push(informer.start())
    }
    Promise.all(starts).catch((err: Error) => finish({ end: 'watch failed', error: err }))
  }
  const watched = newInformer(options.watch, () => {
    startRelated()
    evaluate()
  })

  const ticker = setInterval(evaluate, 1000)
  const timer = setTimeout(() => finish({ end: 'timed out' }), Math.max(0, options.deadline - Date.now()))
  const abort = () => finish({ end: 'aborted' })
  if (options.signal?.aborted) abort()
  options.signal?.addEventListener('abort', abort, { once: true })
  try {
    await watched.start()
    evaluate()
    const end = await ending
    return {
      ...end,
      decision,
      watched: watchedObjects(),
      related: relatedObjects(),
      at: Date.now(),
      relists: informers().reduce((n, i) => n + i.relists, 0),
      reconnects: informers().reduce((n, i) => n + i.reconnects, 0)
    }
  } finally {
    finished = true
    options.signal?.removeEventListener('abort', abort)
    clearInterval(ticker)
    clearTimeout(timer)
    for (const i of informers()) i.stop()
  }
}
