/**
 * The environment a child process gets (exec credential plugins, builders, test commands): the
 * job's environment without the action's inputs (`INPUT_*`, which carry passwords and tokens) and
 * without the runner's own credentials. A child that needs one of them gets it by name (`keep`).
 */
const RUNNER_CREDENTIALS = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RUNTIME_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'ACTIONS_CACHE_URL',
  'ACTIONS_RESULTS_URL',
  'GITHUB_TOKEN'
]

export function childEnv(
  base: NodeJS.ProcessEnv = process.env,
  options: { keep?: readonly string[]; add?: Record<string, string | undefined> } = {}
): Record<string, string> {
  const keep = new Set(options.keep ?? [])
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || keep.has(name)) continue
    if (name.startsWith('INPUT_') || RUNNER_CREDENTIALS.includes(name)) continue
    env[name] = value
  }
  for (const name of keep) if (base[name] !== undefined) env[name] = base[name]!
  for (const [name, value] of Object.entries(options.add ?? {})) if (value !== undefined) env[name] = value
  return env
}
