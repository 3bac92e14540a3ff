import { spawn } from 'node:child_process'
import { ActionError, childEnv } from '../runtime/index.js'

export interface CommandStep {
  /** Shown in the log group, summary and errors: `cargo tarpaulin`, `npm test`. */
  name: string
  command: string
  args: string[]
  env?: Record<string, string>
}

export interface CommandResult {
  exitCode: number
  /** stdout and stderr interleaved as written (capped; the head is dropped first). */
  output: string
  timedOut: boolean
  durationMs: number
}

const MAX_CAPTURE = 32 * 1024 * 1024
const KILL_GRACE_MS = 10_000

/**
 * Runs a step with an argument array (never a shell unless the step itself is `bash -c`, for a
 * workflow author's own command), echoing its output to the log while keeping it for parsing.
 * It runs in its own process group so that a timeout stops the whole tree (cargo, rustc, test
 * binaries), first with SIGTERM, then SIGKILL.
 */
export function runStep(step: CommandStep, cwd: string, timeoutMs: number, echo = true): Promise<CommandResult> {
  const started = Date.now()
  return new Promise((resolvePromise, reject) => {
    const child = spawn(step.command, step.args, {
      cwd,
      // The code under test never sees the action's inputs (the GitHub token) or the runner's tokens.
      env: childEnv(process.env, { add: step.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    let output = ''
    let timedOut = false
    const take = (chunk: Buffer, to: NodeJS.WriteStream) => {
      if (echo) to.write(chunk)
      output += chunk.toString()
      if (output.length > MAX_CAPTURE) output = output.slice(output.length - MAX_CAPTURE)
    }
    child.stdout.on('data', (c: Buffer) => take(c, process.stdout))
    child.stderr.on('data', (c: Buffer) => take(c, process.stderr))
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal)
      } catch {
        // already gone
      }
    }
    let hardKill: NodeJS.Timeout | undefined
    const timer = setTimeout(() => {
      timedOut = true
      killGroup('SIGTERM')
      hardKill = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS)
    }, timeoutMs)
    child.on('error', err => {
      clearTimeout(timer)
      reject(
        new ActionError(`Could not start ${step.name} (${step.command}): ${err.message}`, {
          hint: `Is ${step.command} installed and on PATH?`,
          cause: err
        })
      )
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (hardKill) clearTimeout(hardKill)
      resolvePromise({
        exitCode: code ?? (signal ? 128 + (signalNumber[signal] ?? 0) : 1),
        output,
        timedOut,
        durationMs: Date.now() - started
      })
    })
  })
}

const signalNumber: Partial<Record<NodeJS.Signals, number>> = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 }

/** The command line as a person would type it, for logs and the summary. */
export function displayCommand(step: CommandStep): string {
  if (step.command === 'bash' && step.args[0] === '-eo' && step.args[2] === '-c') return step.args[3] ?? ''
  return [step.command, ...step.args].map(a => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')
}

/** A workflow author's command string, run by bash like a `run:` step. */
export function shellStep(name: string, command: string): CommandStep {
  return { name, command: 'bash', args: ['-eo', 'pipefail', '-c', command] }
}
