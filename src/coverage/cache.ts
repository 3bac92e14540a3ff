import * as cache from '@actions/cache'
import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { TARPAULIN_VERSION } from './plan.js'

export interface CacheEntry {
  /** What is cached, for messages. */
  what: string
  key: string
  restoreKeys: string[]
  paths: string[]
}

export function lockfileHash(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 20)
}

const platform = (): string => `${process.env.RUNNER_OS ?? process.platform}-${process.env.RUNNER_ARCH ?? process.arch}`

/** The dependency cache of a preset, keyed by its lockfile's hash; a stale entry still warms the build. */
export function dependencyCache(preset: 'cargo' | 'npm', workdir: string, lockHash: string, home = homedir()): CacheEntry {
  const prefix = `otlp-test-coverage-${preset}-${platform()}-`
  if (preset === 'cargo') {
    const cargoHome = process.env.CARGO_HOME ?? join(home, '.cargo')
    return {
      what: 'cargo registry and target/',
      key: `${prefix}${lockHash}`,
      restoreKeys: [prefix],
      paths: [join(cargoHome, 'registry/index'), join(cargoHome, 'registry/cache'), join(cargoHome, 'git/db'), join(workdir, 'target')]
    }
  }
  return { what: 'npm cache', key: `${prefix}${lockHash}`, restoreKeys: [prefix], paths: [join(home, '.npm')] }
}

/** The compiled cargo-tarpaulin, so that it is built once per version and platform. */
export function toolCache(root: string): CacheEntry {
  return { what: `cargo-tarpaulin ${TARPAULIN_VERSION}`, key: `cargo-tarpaulin-${TARPAULIN_VERSION}-${platform()}`, restoreKeys: [], paths: [root] }
}

/** Stored coverage reports: one entry per job and commit, all in one folder so restore and save agree. */
export function reportCache(dir: string, job: string, sha: string): CacheEntry {
  return { what: `coverage report of ${sha.slice(0, 7)}`, key: `otlp-test-coverage-report-${job}-${sha}`, restoreKeys: [], paths: [dir] }
}

/** True when the Actions cache service is reachable from this job (it is not outside GitHub). */
export function cacheAvailable(): boolean {
  return cache.isFeatureAvailable()
}

/** Restores an entry; a missing service or a failing restore is logged, never fatal. Returns the key hit. */
export async function restoreEntry(entry: CacheEntry): Promise<string | undefined> {
  if (!cacheAvailable()) {
    core.info(`Actions cache service not available: ${entry.what} not restored`)
    return undefined
  }
  try {
    const hit = await cache.restoreCache([...entry.paths], entry.key, [...entry.restoreKeys])
    core.info(hit ? `restored ${entry.what} from cache key ${hit}` : `no cache entry for ${entry.what} (key ${entry.key})`)
    return hit
  } catch (err) {
    core.warning(`restoring ${entry.what} from the cache failed: ${(err as Error).message}`)
    return undefined
  }
}

/** Saves an entry unless the exact key was restored; an existing key or a failing save is only logged. */
export async function saveEntry(entry: CacheEntry, restoredKey?: string): Promise<void> {
  if (restoredKey === entry.key) return
  if (!cacheAvailable()) {
    core.info(`Actions cache service not available: ${entry.what} not saved`)
    return
  }
  try {
    await cache.saveCache([...entry.paths], entry.key)
    core.info(`saved ${entry.what} under cache key ${entry.key}`)
  } catch (err) {
    const name = (err as Error).name
    if (name === 'ReserveCacheError') core.info(`${entry.what}: cache key ${entry.key} already exists`)
    else core.warning(`saving ${entry.what} to the cache failed: ${(err as Error).message}`)
  }
}
