/**
 * Runs a bundled action (dist/<name>/index.js) as a child process the way the GitHub runner does:
 * INPUT_* variables with the runner's name mangling and action.yml defaults, the file commands
 * (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_STATE, GITHUB_PATH), an event payload
 * at GITHUB_EVENT_PATH and the usual GITHUB_* variables. Returns exit code, outputs, summary and log.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'

export const REPO_ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..')

export interface ActionMetadata {
  name: string
  inputs: Record<string, { description?: string; required?: boolean; default?: string }>
  outputs: Record<string, { description?: string }>
  runs: { using: string; main?: string; post?: string }
  branding?: { icon?: string; color?: string }
}

/** Where each action's action.yml lives; `deploy` is the root one-step action. */
export const ACTION_FILES: Record<string, string> = {
  deploy: 'action.yml',
  rollout: 'actions/rollout/action.yml',
  'image-build': 'actions/image-build/action.yml',
  'test-coverage': 'actions/test-coverage/action.yml'
}

export function loadActionMetadata(action: string): ActionMetadata {
  const file = ACTION_FILES[action]
  if (!file) throw new Error(`unknown action ${action}`)
  const meta = parseYaml(readFileSync(join(REPO_ROOT, file), 'utf8')) as ActionMetadata
  return { ...meta, inputs: meta.inputs ?? {}, outputs: meta.outputs ?? {} }
}

export interface RunActionOptions {
  action: string
  inputs?: Record<string, string | number | boolean>
  /** Extra environment (KUBECONFIG, DOCKER_HOST...). The child gets no other variables of ours. */
  env?: Record<string, string | undefined>
  event?: { name: string; payload: object }
  /** GITHUB_* overrides (GITHUB_REF, GITHUB_SHA, GITHUB_REPOSITORY...). */
  github?: Record<string, string>
  cwd?: string
  timeoutMs?: number
  /** A command the bundle runs under (e.g. unshare for a mount of its own); the Node binary and script follow it. */
  wrap?: string[]
  /**
   * The post phase, as the runner runs it at the end of the job: `runs.post`, with the state the main
   * phase saved (an earlier run's `state`) as STATE_<name> variables and the same inputs.
   */
  post?: { state: Record<string, string> }
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice' | 'debug'
  message: string
  properties: Record<string, string>
}

export interface ActionRun {
  exitCode: number | null
  outputs: Record<string, string>
  summary: string
  envFile: Record<string, string>
  state: Record<string, string>
  /** Standard output and error as written, with workflow commands. */
  rawLog: string
  /** The log as the runner shows it: commands interpreted, masked values replaced by ***. */
  log: string
  annotations: Annotation[]
  masks: string[]
  durationMs: number
}

/** The runner's mangling of an input name into its environment variable. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

/**
 * The Node binary for an action's `runs.using` (node24 → a Node 24): this process's own when its
 * major matches, else the project's (the `node` package in node_modules). Any other major is
 * refused: a bundle proven on another runtime than the one it declares proves nothing.
 */
export function nodeFor(using: string): string {
  const m = /^node(\d+)$/.exec(using)
  if (!m) throw new Error(`runs.using ${JSON.stringify(using)} is not a Node runtime`)
  const major = m[1]!
  if (process.versions.node.split('.')[0] === major) return process.execPath
  const candidate = join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node')
  if (existsSync(candidate)) {
    const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim()
    if (version.startsWith(`v${major}.`)) return candidate
  }
  throw new Error(
    `the action declares ${using}, but this is Node ${process.versions.node} and node_modules has no Node ${major}: run 'make deps' (npm ci installs it)`
  )
}

export async function runAction(options: RunActionOptions): Promise<ActionRun> {
  const meta = loadActionMetadata(options.action)
  const node = nodeFor(meta.runs.using)
  const main = options.post ? meta.runs.post : meta.runs.main
  if (!main) throw new Error(`${options.action}: runs.${options.post ? 'post' : 'main'} missing`)
  const script = resolve(REPO_ROOT, ACTION_FILES[options.action]!, '..', main)
  if (!existsSync(script)) throw new Error(`${script} does not exist: run npm run build`)

  const dir = mkdtempSync(join(tmpdir(), `action-${options.action}-`))
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_PATH: join(dir, 'path')
  }
  for (const f of Object.values(files)) writeFileSync(f, '')
  const eventPath = join(dir, 'event.json')
  const event = options.event ?? { name: 'push', payload: {} }
  writeFileSync(eventPath, JSON.stringify(event.payload))

  const inputs: Record<string, string> = {}
  // The runner passes every declared input, its default when the workflow gives none.
  // `${{ github.token }}` is the job's token: here there is none unless the test gives GITHUB_TOKEN.
  const expression = (value: string) =>
    value.replace(/\$\{\{\s*github\.token\s*\}\}/g, options.github?.GITHUB_TOKEN ?? '')
  for (const [name, spec] of Object.entries(meta.inputs))
    inputs[inputVariable(name)] = expression(spec.default ?? '')
  for (const [name, value] of Object.entries(options.inputs ?? {})) {
    if (!(name in meta.inputs)) throw new Error(`${options.action} declares no input named ${name}`)
    inputs[inputVariable(name)] = String(value)
  }

  const workspace = options.cwd ?? REPO_ROOT
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: join(dir, 'runner-temp'),
    RUNNER_TOOL_CACHE: join(dir, 'tool-cache'),
    GITHUB_WORKSPACE: workspace,
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: 'example/otlp-service',
    GITHUB_REPOSITORY_OWNER: 'example',
    GITHUB_SERVER_URL: 'https://github.com',
    // GitHub is never called from a test: a loopback port nothing listens on, unless a test serves one.
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_GRAPHQL_URL: 'http://127.0.0.1:9/graphql',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REF_TYPE: 'branch',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_NUMBER: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'test',
    GITHUB_WORKFLOW: 'harness',
    GITHUB_ACTION: options.action,
    GITHUB_ACTOR: 'harness',
    ...files,
    ...(options.github ?? {}),
    ...inputs
  }
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v
  for (const [k, v] of Object.entries(options.post?.state ?? {})) env[`STATE_${k}`] = v

  const started = Date.now()
  const [command, ...args] = [...(options.wrap ?? []), node, script]
  const child = spawn(command!, args, { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let rawLog = ''
  child.stdout.on('data', (d: Buffer) => (rawLog += d.toString()))
  child.stderr.on('data', (d: Buffer) => (rawLog += d.toString()))
  const timeoutMs = options.timeoutMs ?? 300_000
  const exitCode = await new Promise<number | null>((resolveExit, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${options.action} did not finish within ${timeoutMs} ms; log so far:\n${rawLog}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', code => {
      clearTimeout(timer)
      resolveExit(code)
    })
  })

  const { masks, annotations, log } = interpretLog(rawLog)
  return {
    exitCode,
    outputs: parseFileCommand(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    envFile: parseFileCommand(readFileSync(files.GITHUB_ENV, 'utf8')),
    state: parseFileCommand(readFileSync(files.GITHUB_STATE, 'utf8')),
    rawLog,
    log,
    annotations,
    masks,
    durationMs: Date.now() - started
  }
}

/**
 * Parses the runner's file-command format: `name=value` lines and multi-line
 * `name<<DELIMITER` ... `DELIMITER` blocks.
 */
export function parseFileCommand(text: string): Record<string, string> {
  const result: Record<string, string> = {}
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line === '') continue
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    const eq = line.indexOf('=')
    if (heredoc && (eq === -1 || line.indexOf('<<') < eq)) {
      const [, name, delimiter] = heredoc
      const value: string[] = []
      i++
      while (i < lines.length && lines[i] !== delimiter) value.push(lines[i++]!)
      if (i >= lines.length) throw new Error(`file command ${name}: delimiter ${delimiter} never closed`)
      result[name!] = value.join('\n')
    } else if (eq > 0) {
      result[line.slice(0, eq)] = line.slice(eq + 1)
    } else {
      throw new Error(`file command line not understood: ${JSON.stringify(line)}`)
    }
  }
  return result
}

/** The runner's unescaping of `::command::` data and property values. */
function unescapeData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}
function unescapeProperty(s: string): string {
  return unescapeData(s).replace(/%3A/g, ':').replace(/%2C/g, ',')
}

export function interpretLog(rawLog: string): { masks: string[]; annotations: Annotation[]; log: string } {
  const masks: string[] = []
  const annotations: Annotation[] = []
  const shown: string[] = []
  for (const line of rawLog.split('\n')) {
    const cmd = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line)
    if (!cmd) {
      shown.push(line)
      continue
    }
    const [, name, props, data] = cmd
    const message = unescapeData(data ?? '')
    if (name === 'add-mask') {
      if (message !== '') masks.push(message)
      continue
    }
    const properties: Record<string, string> = {}
    for (const p of (props ?? '').split(',').filter(Boolean)) {
      const eq = p.indexOf('=')
      properties[p.slice(0, eq)] = unescapeProperty(p.slice(eq + 1))
    }
    if (name === 'error' || name === 'warning' || name === 'notice' || name === 'debug') {
      annotations.push({ level: name, message, properties })
      if (name !== 'debug') shown.push(`${name}: ${message}`)
    } else if (name === 'group') shown.push(`▶ ${message}`)
    else if (name === 'endgroup') continue
    else shown.push(line)
  }
  let log = shown.join('\n')
  // Longest first, as the runner does, so a secret containing another is masked whole.
  for (const secret of [...masks].sort((a, b) => b.length - a.length)) log = log.split(secret).join('***')
  return { masks, annotations, log }
}

/** True when `secret` appears anywhere in the raw output other than in an add-mask command. */
export function leaksSecret(run: ActionRun, secret: string): boolean {
  const visible = run.rawLog
    .split('\n')
    .filter(l => !l.startsWith('::add-mask::'))
    .join('\n')
  return (
    visible.includes(secret) ||
    run.summary.includes(secret) ||
    Object.values(run.outputs).some(v => v.includes(secret))
  )
}
