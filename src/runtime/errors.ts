/**
 * The one error type of the suite. Its message says what went wrong in terms a person can act on;
 * `hint` says what to do about it; `details` are extra lines (diagnostics) for the log and summary.
 */
export class ActionError extends Error {
  readonly hint: string | undefined
  readonly details: readonly string[]

  constructor(
    message: string,
    options: { hint?: string; details?: readonly string[]; cause?: unknown } = {}
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ActionError'
    this.hint = options.hint
    this.details = options.details ?? []
  }

  /** The full text shown by `core.setFailed`. */
  describe(): string {
    return this.hint ? `${this.message}\n${this.hint}` : this.message
  }
}

/** One or more inputs were rejected; raised before any side effect. */
export class InputError extends ActionError {
  readonly problems: readonly InputProblem[]

  constructor(problems: readonly InputProblem[]) {
    const lines = problems.map(p => `- ${p.input}: ${p.message}`)
    super(
      problems.length === 1
        ? `Invalid input ${problems[0]!.input}: ${problems[0]!.message}`
        : `${problems.length} invalid inputs:\n${lines.join('\n')}`,
      { hint: 'Nothing was changed. Fix the inputs named above and run the step again.' }
    )
    this.name = 'InputError'
    this.problems = problems
  }
}

export interface InputProblem {
  input: string
  message: string
}

/** Any thrown value as a readable message (never `[object Object]`). */
export function errorMessage(err: unknown): string {
  if (err instanceof ActionError) return err.describe()
  if (err instanceof Error) return err.message
  return String(err)
}
