import * as core from '@actions/core'

/**
 * Appends markdown to the job summary. Outside a runner (no GITHUB_STEP_SUMMARY) it logs a
 * notice instead of failing: the summary is a report, never a reason for a step to fail.
 */
export async function appendSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.info('(no GITHUB_STEP_SUMMARY: job summary not written)')
    return
  }
  await core.summary.addRaw(markdown, true).write()
}

/** Runs `fn` inside a collapsible log group. */
export function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return core.group(name, fn)
}
