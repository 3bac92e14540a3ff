import type { Inputs } from '../../runtime/index.js'

export interface Config {
  timeoutMs: number
}

export function parseConfig(inputs: Inputs): Config {
  return { timeoutMs: inputs.duration('timeout', { min: 1000 }) ?? 600_000 }
}
