import type { Inputs } from '../../runtime/index.js'
import { type ImageBuildConfig, readImageBuildConfig } from '../../image/config.js'

export type Config = ImageBuildConfig

export function parseConfig(inputs: Inputs): Config {
  return readImageBuildConfig(inputs)
}
