/**
 * Parses an action's inputs the way the runner passes them: action.yml's defaults, overridden by
 * `given`. For table tests of `parseConfig` functions.
 */
import { Inputs, InputError } from '../../src/runtime/index.js'
import { loadActionMetadata } from './runner.js'

export function parseWithDefaults<T>(
  action: string,
  parseConfig: (inputs: Inputs) => T,
  given: Record<string, string>
): T {
  const defaults = Object.entries(loadActionMetadata(action).inputs).map(([k, v]) => [k, v.default ?? ''])
  const values: Record<string, string> = { ...Object.fromEntries(defaults), ...given }
  const inputs = new Inputs(name => values[name] ?? '')
  const config = parseConfig(inputs)
  inputs.done()
  return config
}

/** The `input: message` lines an InputError carries, or none when the inputs are accepted. */
export function inputProblems<T>(
  action: string,
  parseConfig: (inputs: Inputs) => T,
  given: Record<string, string>
): string[] {
  try {
    parseWithDefaults(action, parseConfig, given)
  } catch (err) {
    if (err instanceof InputError) return err.problems.map(p => `${p.input}: ${p.message}`)
    throw err
  }
  return []
}
