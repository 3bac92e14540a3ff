import * as core from '@actions/core'
import { existsSync, readFileSync } from 'node:fs'
import {
  ActionError,
  appendSummary,
  formatDuration,
  group,
  readInputs,
  setOutputs
} from '../../runtime/index.js'
import { BuildFailure, type BuildImageResult, buildImage, removeBuilder } from '../../image/build.js'
import { labelLines } from '../../image/metadata/metadata.js'
import { buildFailureSummary, imageBuildSummary } from '../../image/summary.js'
import { type Config, parseConfig } from './config.js'

function eventPayload(): Record<string, unknown> {
  const path = process.env.GITHUB_EVENT_PATH
  if (!path || !existsSync(path)) return {}
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (err) {
    throw new ActionError(`The event payload ${path} is not JSON: ${(err as Error).message}`)
  }
}

export function outputsOf(r: BuildImageResult): Record<string, string | object> {
  return {
    digest: r.digest,
    'image-ref': r.imageRef,
    tags: r.metadata.tags.join('\n'),
    labels: labelLines(r.metadata.labels).join('\n'),
    version: r.metadata.version,
    builder: r.builder,
    metadata: {
      images: r.metadata.images,
      tags: r.metadata.tags,
      labels: r.metadata.labels,
      version: r.metadata.version,
      digest: r.digest,
      'image-ref': r.imageRef,
      builder: r.builder,
      platforms: r.platforms,
      sizes: r.sizes,
      cache: r.cache,
      'build-ms': r.buildMs,
      'total-ms': r.totalMs,
      timings: r.timings
    }
  }
}

export async function main(): Promise<void> {
  await runImageBuild(readInputs(parseConfig))
}

/**
 * Builds and pushes with a parsed configuration, under its timeout, and reports: outputs, warnings
 * and the job summary (also for a failing step). The one-step deploy action calls this too.
 */
/** The buildx builder the main phase created, for the post phase to remove. */
const CREATED_BUILDER_STATE = 'created-builder'

/**
 * The post phase (the runner runs it at the end of the job, whatever happened): removes the buildx
 * builder the main phase created, unless keep-builder. A registry log-in needs no clean-up: it
 * lived in the step's private DOCKER_CONFIG.
 */
export async function post(): Promise<void> {
  const name = core.getState(CREATED_BUILDER_STATE)
  if (!name) return
  const r = await removeBuilder(name, { log: line => core.info(line) })
  if (!r.removed)
    core.warning(`the buildx builder ${name} this step created could not be removed: ${r.reason}`)
}

export async function runImageBuild(config: Config): Promise<BuildImageResult> {
  const controller = new AbortController()
  const timer = setTimeout(
    () =>
      controller.abort(
        new ActionError(
          `The image build did not finish within ${formatDuration(config.timeoutMs)} (timeout input); it was stopped`,
          {
            hint: 'Raise timeout, or make the build faster with cache-from/cache-to.'
          }
        )
      ),
    config.timeoutMs
  )
  try {
    const result = await buildImage(config, {
      env: process.env,
      payload: eventPayload(),
      signal: controller.signal,
      log: line => core.info(line),
      group,
      onBuilderCreated: name => {
        if (!config.keepBuilder) core.saveState(CREATED_BUILDER_STATE, name)
      }
    })
    setOutputs(outputsOf(result))
    for (const w of result.warnings) core.warning(w)
    core.info(
      result.imageRef
        ? `pushed ${result.imageRef}`
        : `built ${result.metadata.tags.join(', ') || 'the image'} (not pushed)`
    )
    await appendSummary(imageBuildSummary(result))
    return result
  } catch (err) {
    if (err instanceof BuildFailure)
      await appendSummary(
        buildFailureSummary(
          err,
          config.images.map(i => i.name)
        )
      )
    throw err
  } finally {
    clearTimeout(timer)
  }
}
