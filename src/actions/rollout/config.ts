import type { Inputs } from '../../runtime/index.js'

export interface RolloutConfig {
  timeoutMs: number
}

export function parseConfig(inputs: Inputs): RolloutConfig {
  return { timeoutMs: inputs.duration('timeout', { min: 1000 }) ?? 600_000 }
}
