import * as exec from '@actions/exec'
import { ActionError } from './errors.js'

export interface RunOptions {
  cwd?: string
  env?: Record<string, string>
  /** Written to the process's standard input (how passwords reach `login --password-stdin`). */
  input?: string | Buffer
  /** Do not echo the command's output to the log as it runs. */
  silent?: boolean
  /** Return a non-zero exit code instead of throwing. */
  allowFailure?: boolean
  /** Lines of stderr kept in the error when the command fails. */
  tailLines?: number
}

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
}

/**
 * Runs a program with an argument array: never a shell, so no input can be interpreted as shell
 * syntax. A failure throws an ActionError naming the command and carrying the tail of its output.
 */
export async function run(
  command: string,
  args: readonly string[],
  options: RunOptions = {}
): Promise<RunResult> {
  if (!Array.isArray(args)) throw new TypeError('run() takes an argument array')
  let result: exec.ExecOutput
  try {
    result = await exec.getExecOutput(command, [...args], {
      cwd: options.cwd,
      env: options.env ? { ...(process.env as Record<string, string>), ...options.env } : undefined,
      input: options.input === undefined ? undefined : Buffer.from(options.input),
      silent: options.silent ?? false,
      ignoreReturnCode: true
    })
  } catch (err) {
    throw new ActionError(`Could not start ${command}: ${(err as Error).message}`, {
      hint: `Is ${command} installed and on PATH?`,
      cause: err
    })
  }
  if (result.exitCode !== 0 && !options.allowFailure) {
    const tail = lastLines(result.stderr.trim() || result.stdout.trim(), options.tailLines ?? 20)
    throw new ActionError(
      `${command} ${args.slice(0, 2).join(' ')} failed with exit code ${result.exitCode}`,
      {
        details: tail
      }
    )
  }
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }
}

export function lastLines(text: string, n: number): string[] {
  const lines = text.split(/\r?\n/)
  return lines.slice(Math.max(0, lines.length - n))
}
