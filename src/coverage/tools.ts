import * as core from '@actions/core'
import { existsSync, renameSync, rmSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ActionError } from '../runtime/index.js'
import { restoreEntry, saveEntry, toolCache } from './cache.js'
import { runStep } from './command.js'
import { TARPAULIN_VERSION, type CargoCoverageTool } from './plan.js'

const INSTALL_TIMEOUT_MS = 60 * 60_000

/** Where the project's tools are kept between runs (same layout as scripts/lib.sh's go_tool). */
export function toolsRoot(): string {
  return process.env.OTLP_DEPLOY_CACHE || join(homedir(), '.cache/otlp-deploy-actions')
}

export function tarpaulinRoot(): string {
  return join(toolsRoot(), 'cargo-tools', `cargo-tarpaulin-${TARPAULIN_VERSION}`)
}

async function works(args: string[], cwd: string): Promise<boolean> {
  try {
    const r = await runStep({ name: args.join(' '), command: 'cargo', args }, cwd, 60_000, false)
    return r.exitCode === 0
  } catch {
    return false
  }
}

/**
 * The cargo coverage tool to use: cargo-llvm-cov where installed, else cargo-tarpaulin on PATH,
 * else the cached build of the pinned tarpaulin, else it is compiled now (`cargo install --locked`)
 * into the tools folder and, with `cache`, saved to the Actions cache for the next run.
 */
export async function cargoCoverageTool(cwd: string, useCache: boolean): Promise<{ tool: CargoCoverageTool; binDir?: string }> {
  if (await works(['llvm-cov', '--version'], cwd)) return { tool: 'llvm-cov' }
  if (await works(['tarpaulin', '--version'], cwd)) return { tool: 'tarpaulin' }
  const root = tarpaulinRoot()
  const bin = join(root, 'bin')
  if (existsSync(join(bin, 'cargo-tarpaulin'))) return { tool: 'tarpaulin', binDir: bin }
  const entry = toolCache(root)
  if (useCache && (await restoreEntry(entry)) && existsSync(join(bin, 'cargo-tarpaulin'))) return { tool: 'tarpaulin', binDir: bin }

  core.info(`cargo-tarpaulin ${TARPAULIN_VERSION} is not installed: compiling it into ${root} (several minutes, once)`)
  const tmp = `${root}.tmp-${process.pid}`
  const result = await runStep(
    {
      name: 'cargo install cargo-tarpaulin',
      command: 'cargo',
      args: ['install', 'cargo-tarpaulin', '--version', TARPAULIN_VERSION, '--locked', '--root', tmp]
    },
    cwd,
    INSTALL_TIMEOUT_MS
  )
  if (result.exitCode !== 0) {
    rmSync(tmp, { recursive: true, force: true })
    throw new ActionError(`cargo install cargo-tarpaulin ${TARPAULIN_VERSION} failed with exit code ${result.exitCode}`, {
      hint: 'See the cargo output above; tarpaulin needs a C toolchain and OpenSSL headers (or install cargo-llvm-cov first).'
    })
  }
  rmSync(root, { recursive: true, force: true })
  renameSync(tmp, root)
  if (useCache) await saveEntry(entry)
  return { tool: 'tarpaulin', binDir: bin }
}
