import * as core from '@actions/core'
import { ActionError, errorMessage } from './errors.js'

/**
 * The single entry point of every action: runs `main`, and turns any error into one
 * `core.setFailed` with an actionable message (and its details as log lines).
 */
export async function runAction(main: () => Promise<void>): Promise<void> {
  try {
    await main()
  } catch (err) {
    if (err instanceof ActionError) {
      for (const line of err.details) core.info(line)
    } else if (err instanceof Error && err.stack) {
      core.debug(err.stack)
    }
    core.setFailed(errorMessage(err))
  }
}
