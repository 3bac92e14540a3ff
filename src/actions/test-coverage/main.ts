import { ActionError, readInputs } from '../../runtime/index.js'
import { parseConfig } from './config.js'

export async function main(): Promise<void> {
  readInputs(parseConfig)
  throw new ActionError('test-coverage: not implemented yet')
}
