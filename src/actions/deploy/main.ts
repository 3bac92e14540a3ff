import * as core from '@actions/core'
import { ActionError, group, readInputs } from '../../runtime/index.js'
import { runImageBuild } from '../image-build/main.js'
import { checkRelease, runRollout } from '../rollout/main.js'
import { parseConfig } from './config.js'

/**
 * The one-step path: build and push (image-build), pin the pushed digest into the named containers,
 * then roll out, smoke-test and roll back on failure (rollout). Every input of both steps is
 * validated, and the release checked against the cluster (connection, dry-run, permissions),
 * before the build starts: a bad deploy input pushes no image and moves no tag.
 */
export async function main(): Promise<void> {
  const config = readInputs(parseConfig)
  if (config.rollout.record.rollbackTo) {
    // Nothing to build: the last successful deployment's images are rolled out again.
    await runRollout(config.rollout)
    return
  }
  await group('Check the release before building', () => checkRelease(config.rollout))
  const built = await runImageBuild(config.build)
  if (!built.imageRef) {
    throw new ActionError('The image was built but not pushed, so there is no digest to roll out', {
      hint: 'Check the registry inputs: the one-step action always pushes.'
    })
  }
  core.info(`rolling out ${built.imageRef} into container(s) ${config.containers.join(', ')}`)
  const images = config.containers.map(container => ({ container, image: built.imageRef, byDigest: true }))
  await runRollout({ ...config.rollout, images })
}
