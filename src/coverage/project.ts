/**
 * What the test-coverage run learns from the project on disk (effects): the facts the test plan
 * needs, the dependency cache's key, and the report files the globs match.
 */
import * as core from '@actions/core'
import * as glob from '@actions/glob'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ActionError } from '../runtime/index.js'
import { dependencyCache, lockfileHash, type CacheEntry } from './cache.js'
import type { ProjectFacts } from './plan.js'
import { cargoCoverageTool } from './tools.js'
import type { Config } from './types.js'

export async function projectFacts(config: Config, workdir: string): Promise<ProjectFacts> {
  if (config.preset === 'cargo') {
    if (!existsSync(join(workdir, 'Cargo.toml')))
      throw new ActionError(`preset cargo: there is no Cargo.toml in ${workdir}`, {
        hint: 'Set working-directory to the crate or workspace root.'
      })
    if (config.command) return {}
    const { tool, binDir } = await cargoCoverageTool(workdir, config.cache)
    return binDir ? { cargoTool: tool, toolBinDir: binDir } : { cargoTool: tool }
  }
  if (config.preset === 'npm') {
    const file = join(workdir, 'package.json')
    if (!existsSync(file))
      throw new ActionError(`preset npm: there is no package.json in ${workdir}`, {
        hint: 'Set working-directory to the package root.'
      })
    let packageJson: ProjectFacts['packageJson']
    try {
      packageJson = JSON.parse(readFileSync(file, 'utf8')) as ProjectFacts['packageJson']
    } catch (err) {
      throw new ActionError(`${file} is not valid JSON: ${(err as Error).message}`)
    }
    return {
      packageJson,
      hasNodeModules: existsSync(join(workdir, 'node_modules')),
      hasPackageLock: existsSync(join(workdir, 'package-lock.json'))
    }
  }
  return {}
}

export function dependencyCacheFor(config: Config, workdir: string): CacheEntry | undefined {
  if (config.preset === 'custom') {
    core.info('cache: nothing to cache for preset custom')
    return undefined
  }
  const lockName = config.preset === 'cargo' ? 'Cargo.lock' : 'package-lock.json'
  const lock = [join(workdir, lockName), join(workdir, '..', lockName)].find(existsSync)
  if (!lock) {
    core.warning(
      `cache: no ${lockName} in ${workdir}, so there is no key for the dependency cache; not caching`
    )
    return undefined
  }
  return dependencyCache(config.preset, workdir, lockfileHash(readFileSync(lock)))
}

export async function findFiles(patterns: readonly string[], workdir: string): Promise<string[]> {
  const absolute = patterns.map(p =>
    p.startsWith('!') ? `!${resolve(workdir, p.slice(1))}` : resolve(workdir, p)
  )
  const globber = await glob.create(absolute.join('\n'), {
    matchDirectories: false,
    implicitDescendants: false
  })
  return (await globber.glob()).sort()
}
