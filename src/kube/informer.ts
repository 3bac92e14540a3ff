/**
 * A small informer: list once, then watch from the list's resourceVersion and keep a local copy
 * of the objects. It resumes a watch the server ended from the last resourceVersion seen
 * (bookmarks included), lists again when that version is gone (410: the watch expired or the API
 * server restarted with a fresh cache), and retries with backoff while the server is unreachable.
 */
import type { KubeClient, WatchEvent } from './client.js'
import { KubeApiError } from './client.js'
import type { KubeObject } from './objects.js'

export interface InformerOptions {
  labelSelector?: string
  fieldSelector?: string
  /** Called after every change of the local copy (and after each re-list). */
  onChange: () => void
  /** Reports reconnects and re-lists, for the log. */
  onNotice?: (message: string) => void
  /** Server-side timeout of each watch request (seconds). */
  watchSeconds?: number
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly items = new Map<string, T>()
  private resourceVersion = ''
  private readonly controller = new AbortController()
  private loop: Promise<void> | undefined
  /** Set when the informer stopped on an error it cannot recover from (403, 404 of the kind). */
  fatal: Error | undefined
  relists = 0
  reconnects = 0

  constructor(
    private readonly client: KubeClient,
    private readonly path: string,
    private readonly options: InformerOptions
  ) {}

  /** Lists (so `items` is complete when this resolves), then watches in the background. */
  async start(): Promise<void> {
    await this.list()
    this.loop = this.watchLoop()
  }

  stop(): void {
    this.controller.abort()
  }

  async stopped(): Promise<void> {
    this.stop()
    await this.loop
  }

  get objects(): T[] {
    return [...this.items.values()]
  }

  private async list(): Promise<void> {
    const list = await this.client.request<{
      kind?: string
      apiVersion?: string
      metadata?: { resourceVersion?: string }
      items?: T[]
    }>('GET', this.path, {
      query: { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector },
      retryForMs: 60_000
    })
    this.items.clear()
    // List items carry no kind; the verdict functions dispatch on it.
    const kind = list.kind?.replace(/List$/, '')
    for (const item of list.items ?? []) {
      item.kind ??= kind
      item.apiVersion ??= list.apiVersion
      this.items.set(item.metadata?.name ?? '', item)
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? ''
    this.options.onChange()
  }

  private async watchLoop(): Promise<void> {
    const signal = this.controller.signal
    const backoff = new WatchBackoff()
    while (!signal.aborted) {
      const opened = Date.now()
      try {
        let gone = false
        const events = await this.client.watch(
          this.path,
          {
            labelSelector: this.options.labelSelector,
            fieldSelector: this.options.fieldSelector,
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: this.options.watchSeconds ?? 300
          },
          (event: WatchEvent) => {
            if (event.type === 'ERROR') {
              const status = event.object as { code?: number; message?: string }
              if (status.code === 410) gone = true
              else this.options.onNotice?.(`watch ${this.path}: ${status.message ?? 'error event'}`)
              return
            }
            const obj = event.object as T
            const rv = obj.metadata?.resourceVersion
            if (rv) this.resourceVersion = rv
            if (event.type === 'BOOKMARK') return
            const name = obj.metadata?.name ?? ''
            if (event.type === 'DELETED') this.items.delete(name)
            else this.items.set(name, obj)
            this.options.onChange()
          },
          signal
        )
        if (gone) {
          this.relists++
          this.options.onNotice?.(`watch ${this.path}: resourceVersion expired; listing again`)
          await pause(backoff.next(), signal)
          await this.list()
          continue
        }
        // A watch that the server (or a proxy in between) ends at once with nothing in it would
        // otherwise be reopened in a tight loop; client-go's reflector backs off the same way.
        if (events === 0 && Date.now() - opened < 1000) {
          this.reconnects++
          await pause(backoff.next(), signal)
        } else {
          backoff.reset()
          this.unauthorizedInARow = 0
        }
      } catch (err) {
        if (signal.aborted) return
        if (err instanceof KubeApiError && err.status === 410) {
          this.relists++
          await pause(backoff.next(), signal)
          try {
            await this.list()
          } catch (listErr) {
            if (!this.retriable(listErr)) return
          }
          continue
        }
        if (!this.retriable(err)) return
        this.reconnects++
        this.options.onNotice?.(`watch ${this.path}: ${(err as Error).message}; reconnecting`)
        const retryAfter = err instanceof KubeApiError ? err.retryAfterSeconds : undefined
        await pause(Math.max(backoff.next(), (retryAfter ?? 0) * 1000), signal)
        // After a restart the old version may be gone; the next watch answers 410 and we re-list.
      }
    }
  }

  private retriable(err: unknown): boolean {
    // A 401 after the client fetched the credential again is final too.
    if (err instanceof KubeApiError && [401, 403, 404].includes(err.status) && !this.retry401(err)) {
      this.fatal = err
      this.options.onChange()
      return false
    }
    return true
  }

  /** One 401 in a row is retried (the client has fetched a fresh credential); a second is final. */
  private unauthorizedInARow = 0
  private retry401(err: KubeApiError): boolean {
    if (err.status !== 401) return false
    return ++this.unauthorizedInARow <= 1
  }
}

/**
 * The pause before reopening a watch: 800 ms doubling to 30 s, each with up to 20% jitter so that
 * many clients a restart disconnected do not come back in step (client-go's reflector backoff).
 */
export class WatchBackoff {
  private attempt = 0
  constructor(
    private readonly initialMs = 800,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random
  ) {}
  next(): number {
    const base = Math.min(this.initialMs * 2 ** this.attempt, this.maxMs)
    this.attempt++
    return Math.round(base * (1 + 0.2 * this.random()))
  }
  reset(): void {
    this.attempt = 0
  }
}

/** A pause that ends early when the informer stops. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
