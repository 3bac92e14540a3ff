/**
 * Runs a builder CLI (never a shell) with its output streamed to the log and kept for
 * explanations, standard input for passwords, and a deadline that stops the whole process group.
 */
import { spawn } from 'node:child_process'
import { ActionError, childEnv } from '../runtime/index.js'

export interface ToolResult {
  exitCode: number
  stdout: string
  stderr: string
  /** stdout and stderr interleaved as they arrived. */
  output: string
}

export interface ToolOptions {
  env?: Record<string, string | undefined>
  /** Variables of the job the child keeps although childEnv drops them (ACTIONS_RUNTIME_TOKEN for a gha cache). */
  keepEnv?: readonly string[]
  input?: string
  cwd?: string
  /** Do not echo the output to the log. */
  quiet?: boolean
  signal?: AbortSignal
}

export function runTool(
  command: string,
  args: readonly string[],
  options: ToolOptions = {}
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason)
      return
    }
    // Builders get the job's environment without the action's inputs and the runner's tokens;
    // a cache of type gha needs the runtime token, and gets it by name.
    const env = childEnv(process.env, { keep: options.keepEnv, add: options.env })
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true
    })
    let stdout = ''
    let stderr = ''
    let output = ''
    const onAbort = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM')
      } catch {
        // already gone
      }
      setTimeout(() => {
        try {
          if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }, 5000).unref()
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString()
      stdout += text
      output += text
      if (!options.quiet) process.stdout.write(text)
    })
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString()
      stderr += text
      output += text
      if (!options.quiet) process.stdout.write(text)
    })
    child.on('error', err => {
      options.signal?.removeEventListener('abort', onAbort)
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
      reject(
        new ActionError(
          missing
            ? `${command} is not installed (not found on PATH)`
            : `could not start ${command}: ${err.message}`,
          {
            hint: missing
              ? `Install ${command} on the runner or choose another builder with the builder input.`
              : undefined
          }
        )
      )
    })
    child.on('close', code => {
      options.signal?.removeEventListener('abort', onAbort)
      if (options.signal?.aborted) reject(options.signal.reason)
      else resolve({ exitCode: code ?? 1, stdout, stderr, output })
    })
    child.stdin.on('error', () => undefined)
    child.stdin.end(options.input ?? '')
  })
}
