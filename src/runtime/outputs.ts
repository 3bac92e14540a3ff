import * as core from '@actions/core'

export type OutputValue = string | number | boolean | undefined | null | object

/** Sets every output; objects become JSON, undefined and null become the empty string. */
export function setOutputs(outputs: Record<string, OutputValue>): void {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, outputText(value))
}

export function outputText(value: OutputValue): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}
