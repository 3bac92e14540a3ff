/** Loads the webhook payload fixtures of __tests__/fixtures/events/ (`<name>.json` + `<name>.env`). */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../harness/runner.js'
import { type GitContext, gitContextFrom } from '../../src/image/metadata/context.js'

export const EVENTS_DIR = join(REPO_ROOT, '__tests__/fixtures/events')

export const EVENT_NAMES = [
  'push_main',
  'push_feature',
  'tag_v1_2_3',
  'tag_v2_0_8_beta_67',
  'pull_request',
  'schedule',
  'workflow_dispatch'
] as const
export type EventName = (typeof EVENT_NAMES)[number]

export function eventEnv(name: EventName): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of readFileSync(join(EVENTS_DIR, `${name}.env`), 'utf8').split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return env
}

export function eventPayload(name: EventName): Record<string, unknown> {
  return JSON.parse(readFileSync(join(EVENTS_DIR, `${name}.json`), 'utf8')) as Record<string, unknown>
}

/** A fixed instant so that dates in tags and labels are predictable. */
export const NOW = new Date('2026-11-26T09:30:05.123Z')

export function eventContext(name: EventName, env: Record<string, string> = {}, now = NOW): GitContext {
  return gitContextFrom({ ...eventEnv(name), ...env }, eventPayload(name), now)
}
