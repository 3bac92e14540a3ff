import type { Inputs } from '../../runtime/index.js'
import { readImageBuildConfig, type ImageBuildConfig } from '../../image/config.js'
import {
  parseConfig as parseRolloutConfig,
  type ActionConfig as RolloutActionConfig
} from '../rollout/config.js'

/**
 * The one-step action reads image-build's and rollout's inputs with their own parsers. Where the
 * two use the same name for different things, the one-step action declares distinct names:
 * `build-timeout` (build) beside `timeout` (rollout wait), and `kube-context` beside `context`
 * (build context). Rollout's `images` pins are not an input here: the new image's digest is
 * pinned into the containers named by `containers`.
 */
export const BUILD_RENAMES = { timeout: 'build-timeout' }
export const ROLLOUT_RENAMES = { context: 'kube-context' }
/** Stands in for the pins while parsing; replaced by the pushed digest before the rollout. */
const PENDING_IMAGE = 'pending.invalid/image:pending'

export interface DeployConfig {
  build: ImageBuildConfig
  rollout: RolloutActionConfig
  containers: string[]
}

export function parseConfig(inputs: Inputs): DeployConfig {
  const containers = inputs.list('containers', { commas: true, required: true })
  // rollback-to: no build; the images come from the environment's last successful deployment, so
  // the build's own required input stands in (the build config is not used).
  const rollingBack = inputs.string('rollback-to') !== ''
  const build = readImageBuildConfig(
    inputs.view({
      rename: BUILD_RENAMES,
      given:
        rollingBack && inputs.string('images') === ''
          ? { push: 'true', images: 'rollback.invalid/unused' }
          : { push: 'true' }
    })
  )
  const rollout = parseRolloutConfig(
    inputs.view({
      rename: { ...ROLLOUT_RENAMES, images: 'containers' },
      given: { images: rollingBack ? '' : containers.map(c => `${c}=${PENDING_IMAGE}`).join('\n') }
    })
  )
  return { build, rollout, containers }
}
