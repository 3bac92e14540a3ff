/**
 * The otlp-client image as the end-to-end tests build it: a static binary for the host platform
 * (otlp-client/scripts/build-bin.sh) in the Dockerfile's `prebuilt` target on the test bed's busybox
 * base, built and pushed by the image-build action with buildah. The Dockerfile's default target
 * compiles inside the build and would need a Rust base image, which the offline test bed cannot pull.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { REPO_ROOT, runAction, type ActionRun } from '../harness/runner.js'
import type { TestbedEnv } from './testbed.js'

/** The variables of `.testbed/env` that building the image needs. */
export const IMAGE_ENV = [
  'REGISTRY',
  'REGISTRY_USERNAME',
  'REGISTRY_PASSWORD',
  'TESTBED_BASE_IMAGE',
  'DOCKER_CONFIG'
] as const

/** Builds and pushes otlp-client to `image` (a repository in the test bed registry). */
export async function buildOtlpClientImage(tb: TestbedEnv, image: string): Promise<ActionRun> {
  // cargo makes an unchanged rebuild quick.
  execFileSync(join(REPO_ROOT, 'otlp-client/scripts/build-bin.sh'), ['amd64'], {
    stdio: 'inherit',
    timeout: 840_000
  })
  return runAction({
    action: 'image-build',
    cwd: REPO_ROOT,
    env: {
      DOCKER_CONFIG: tb.DOCKER_CONFIG,
      ...(tb.CONTAINERS_REGISTRIES_CONF ? { CONTAINERS_REGISTRIES_CONF: tb.CONTAINERS_REGISTRIES_CONF } : {}),
      ...(tb.CONTAINERS_STORAGE_CONF ? { CONTAINERS_STORAGE_CONF: tb.CONTAINERS_STORAGE_CONF } : {}),
      ...(tb.CONTAINERS_CONF ? { CONTAINERS_CONF: tb.CONTAINERS_CONF } : {})
    },
    inputs: {
      context: 'otlp-client',
      file: 'otlp-client/Dockerfile',
      target: 'prebuilt',
      images: image,
      tags: 'type=sha\ntype=ref,event=branch',
      platforms: 'linux/amd64',
      builder: 'buildah',
      'build-args': `RUNTIME_IMAGE=${tb.TESTBED_BASE_IMAGE}`,
      username: tb.REGISTRY_USERNAME!,
      password: tb.REGISTRY_PASSWORD!,
      timeout: '10m'
    },
    timeoutMs: 600_000
  })
}

/** GETs `url` until it answers or `deadlineMs` passes; the answer, or the last error. */
export async function health(
  url: string,
  deadlineMs: number
): Promise<{ status: number; body: string } | string> {
  let last = 'no answer'
  while (Date.now() < deadlineMs) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      return { status: res.status, body: (await res.text()).trim() }
    } catch (err) {
      last = (err as Error).message
      await new Promise(r => setTimeout(r, 500))
    }
  }
  return last
}
