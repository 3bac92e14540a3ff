import * as core from '@actions/core'
import { statSync } from 'node:fs'

/** GitHub refuses a step's summary over 1 MiB and shows none of it. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024

/**
 * Appends markdown to the job summary. Outside a runner (no GITHUB_STEP_SUMMARY) it logs a
 * notice instead of failing: the summary is a report, never a reason for a step to fail. What
 * would pass GitHub's limit is cut at a line and says so.
 */
export async function appendSummary(markdown: string): Promise<void> {
  const file = process.env.GITHUB_STEP_SUMMARY
  if (!file) {
    core.info('(no GITHUB_STEP_SUMMARY: job summary not written)')
    return
  }
  let used = 0
  try {
    used = statSync(file).size
  } catch {
    // a file not written yet holds nothing
  }
  const fitted = fitSummary(markdown, used)
  if (fitted !== markdown) core.warning('The job summary was cut to stay within GitHub’s 1 MiB limit.')
  await core.summary.addRaw(fitted, true).write()
}

/** `markdown` cut (at a line, with a note) so that `used` bytes plus it stay within `limit`. Pure. */
export function fitSummary(markdown: string, used: number, limit = SUMMARY_LIMIT_BYTES): string {
  const size = Buffer.byteLength(markdown) + 1
  if (used + size <= limit) return markdown
  const note = (cut: number) =>
    `\n\n> ✂️ **Summary truncated**: ${Math.ceil(cut / 1024)} KiB more than GitHub’s 1 MiB limit for a step’s summary were left out; the step’s log has the details.\n`
  const room = limit - used - Buffer.byteLength(note(size)) - 1
  if (room <= 0) return ''
  const bytes = Buffer.from(markdown)
  let end = bytes.subarray(0, room).lastIndexOf(0x0a)
  if (end < 0) end = 0
  // An open code fence would swallow the note.
  let head = bytes.subarray(0, end).toString('utf8')
  if ((head.match(/^```/gm) ?? []).length % 2 === 1) head += '\n```'
  return head + note(size - end)
}

/** Runs `fn` inside a collapsible log group. */
export function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return core.group(name, fn)
}
