import * as core from '@actions/core'

/** Lines shorter than this are not masked on their own: masking `{` or `---` would garble the log. */
const MIN_LINE_LENGTH = 8

/**
 * Masks a credential before its first use. The runner masks a registered value as a whole, so a
 * multi-line secret (a key) also has each substantial line registered, and the base64 form is
 * registered too because tools echo credentials encoded. For a document that holds credentials
 * among plain lines (a kubeconfig), mask the credentials one by one with maskValue instead.
 */
export function maskSecret(value: string): void {
  if (value.trim() === '') return
  core.setSecret(value)
  const lines = value.split(/\r?\n/).map(l => l.trim())
  if (lines.length > 1) for (const line of lines) if (line.length >= MIN_LINE_LENGTH) core.setSecret(line)
  if (value.length >= MIN_LINE_LENGTH) core.setSecret(Buffer.from(value).toString('base64'))
}

const maskedValues = new Set<string>()

/** Masks one single-line credential and its base64 form, once however often it is read. */
export function maskValue(value: string): void {
  if (value.trim() === '' || maskedValues.has(value)) return
  maskedValues.add(value)
  core.setSecret(value)
  if (value.length >= MIN_LINE_LENGTH) core.setSecret(Buffer.from(value).toString('base64'))
}

/** A PEM block: the whole block and its body lines, never its `-----BEGIN ...-----` lines. */
export function maskPem(pem: string): void {
  if (pem.trim() === '' || maskedValues.has(pem)) return
  maskedValues.add(pem)
  core.setSecret(pem)
  for (const line of pem.split(/\r?\n/).map(l => l.trim()))
    if (!line.startsWith('-----') && line.length >= 16) maskValue(line)
}
