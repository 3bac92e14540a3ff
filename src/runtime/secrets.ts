import * as core from '@actions/core'

/** Lines shorter than this are not masked on their own: masking `{` or `---` would garble the log. */
const MIN_LINE_LENGTH = 8

/**
 * Masks a credential before its first use. The runner masks a registered value as a whole, so a
 * multi-line secret (a kubeconfig, a key) also has each substantial line registered, and the
 * base64 form is registered too because tools echo credentials encoded.
 */
export function maskSecret(value: string): void {
  if (value.trim() === '') return
  core.setSecret(value)
  const lines = value.split(/\r?\n/).map(l => l.trim())
  if (lines.length > 1) for (const line of lines) if (line.length >= MIN_LINE_LENGTH) core.setSecret(line)
  if (value.length >= MIN_LINE_LENGTH) core.setSecret(Buffer.from(value).toString('base64'))
}
