import * as core from '@actions/core'
import { ActionError, errorMessage } from './errors.js'

/** The state the main phase leaves so that the same bundle, run again as `runs.post`, knows it. */
const PHASE_STATE = 'otlp-deploy-actions-phase'

/**
 * The single entry point of every action: runs `main` (or, when the runner runs the bundle again as
 * the action's `runs.post`, `post`), and turns any error into one `core.setFailed` with an
 * actionable message (and its details as log lines).
 */
export async function runAction(main: () => Promise<void>, post?: () => Promise<void>): Promise<void> {
  const isPost = core.getState(PHASE_STATE) === 'post'
  if (!isPost && post) core.saveState(PHASE_STATE, 'post')
  if (isPost && !post) return
  try {
    await (isPost && post ? post() : main())
  } catch (err) {
    if (err instanceof ActionError) {
      for (const line of err.details) core.info(line)
    } else if (err instanceof Error && err.stack) {
      core.debug(err.stack)
    }
    core.setFailed(errorMessage(err))
  }
}
