/** What to build, resolved from the configuration and the metadata: the input of both builders. */
import type { CacheSpec } from './config.js'

export interface BuildRequest {
  context: string
  file: string
  /** `name:tag` references to push. */
  tags: string[]
  labels: Record<string, string>
  /** `linux/amd64` forms; empty means the builder's default (the host). */
  platforms: string[]
  push: boolean
  buildArgs: [string, string][]
  /** Secret ids and the private files holding their values. */
  secretFiles: { id: string; path: string }[]
  cacheFrom: CacheSpec[]
  cacheTo: CacheSpec[]
  provenance: string
  sbom: string
  noCache: boolean
  target: string
}
