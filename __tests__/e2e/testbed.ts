/**
 * The local test bed as the end-to-end tests see it: the variables `.testbed/env` exports
 * (written by `make testbed-up`). A test never skips silently when the test bed is down: it fails
 * and says how to bring it up.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../harness/runner.js'

export type TestbedEnv = Record<string, string>

export function testbedEnv(): TestbedEnv {
  const file = process.env.TESTBED_ENV ?? join(REPO_ROOT, '.testbed', 'env')
  if (!existsSync(file)) throw new Error(`${file} is missing: run 'make testbed-up' first`)
  const env: TestbedEnv = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (!m) continue
    let value = m[2]!.trim()
    if ((value.startsWith("'") && value.endsWith("'")) || (value.startsWith('"') && value.endsWith('"'))) {
      value = value.slice(1, -1)
    }
    env[m[1]!] = value
  }
  return env
}

/** The named variables, or an error naming the missing ones. */
export function requireTestbed(...names: string[]): TestbedEnv {
  const env = testbedEnv()
  const missing = names.filter(n => !env[n])
  if (missing.length)
    throw new Error(`.testbed/env lacks ${missing.join(', ')}: is that part of the test bed up?`)
  return env
}

/** kubectl as the test bed's admin, with a request timeout so that no call can hang a test. */
export function kubectl(...args: string[]): string {
  const tb = requireTestbed('KUBECTL', 'KUBECONFIG')
  return execFileSync(tb.KUBECTL!, ['--kubeconfig', tb.KUBECONFIG!, '--request-timeout=30s', ...args], {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe']
  })
}
