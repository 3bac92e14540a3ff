/**
 * A small informer: list once, then watch from the list's resourceVersion and keep a local copy
 * of the objects. It resumes a watch the server ended from the last resourceVersion seen
 * (bookmarks included), lists again when that version is gone (410: the watch expired or the API
 * server restarted with a fresh cache), and retries with backoff while the server is unreachable.
 */
import type { KubeClient, WatchEvent } from './client.js'
import { KubeApiError, sleep } from './client.js'
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
    let delay = 200
    while (!signal.aborted) {
      try {
        let gone = false
        await this.client.watch(
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
        delay = 200
        if (gone) {
          this.relists++
          this.options.onNotice?.(`watch ${this.path}: resourceVersion expired; listing again`)
          await this.list()
        }
      } catch (err) {
        if (signal.aborted) return
        if (err instanceof KubeApiError && err.status === 410) {
          this.relists++
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
        await sleep(delay)
        delay = Math.min(delay * 2, 2000)
        // After a restart the old version may be gone; the next watch answers 410 and we re-list.
      }
    }
  }

  private retriable(err: unknown): boolean {
    if (err instanceof KubeApiError && [401, 403, 404].includes(err.status)) {
      this.fatal = err
      this.options.onChange()
      return false
    }
    return true
  }
}
