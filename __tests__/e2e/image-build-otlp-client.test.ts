/**
 * The otlp-client image built by the image-build action for the host platform, pushed to the test
 * bed registry, pulled by digest into the test bed's Docker Engine, run, and its /health answering.
 * Uses the Dockerfile's `prebuilt` target (a static binary from otlp-client/scripts/build-bin.sh on
 * the test bed's busybox base) and buildah: the Dockerfile's `# syntax=docker/dockerfile:1` line
 * would make BuildKit fetch its frontend from Docker Hub, which the offline test bed cannot reach.
 */
import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { REPO_ROOT, leaksSecret, runAction } from '../harness/runner.js'
import { requireTestbed } from './testbed.js'

jest.setTimeout(900_000)

const tb = requireTestbed(
  'REGISTRY',
  'REGISTRY_USERNAME',
  'REGISTRY_PASSWORD',
  'TESTBED_BASE_IMAGE',
  'DOCKER_HOST',
  'DOCKER_CONFIG'
)
const dockerEnv = { ...process.env, DOCKER_HOST: tb.DOCKER_HOST!, DOCKER_CONFIG: tb.DOCKER_CONFIG! }
const docker = (...args: string[]) =>
  execFileSync('docker', args, { env: dockerEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

async function health(url: string, deadlineMs: number): Promise<{ status: number; body: string } | string> {
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

describe('the otlp-client image', () => {
  beforeAll(() => {
    // A static binary for the host platform; cargo makes an unchanged rebuild quick.
    execFileSync(join(REPO_ROOT, 'otlp-client/scripts/build-bin.sh'), ['amd64'], {
      stdio: 'inherit',
      timeout: 840_000
    })
  })

  it('is built and pushed by image-build, runs from its digest, and answers /health', async () => {
    const image = `${tb.REGISTRY}/e2e/otlp-client`
    const run = await runAction({
      action: 'image-build',
      cwd: REPO_ROOT,
      env: {
        DOCKER_CONFIG: tb.DOCKER_CONFIG,
        ...(tb.CONTAINERS_REGISTRIES_CONF
          ? { CONTAINERS_REGISTRIES_CONF: tb.CONTAINERS_REGISTRIES_CONF }
          : {}),
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
    const errors = run.annotations.filter(a => a.level === 'error').map(a => a.message)
    expect({ exitCode: run.exitCode, errors }).toEqual({ exitCode: 0, errors: [] })
    expect(leaksSecret(run, tb.REGISTRY_PASSWORD!)).toBe(false)
    const ref = run.outputs['image-ref']!
    expect(ref).toMatch(new RegExp(`^${image.replace(/[.]/g, '\\.')}@sha256:[a-f0-9]{64}$`))

    docker('pull', ref)
    const [healthPort, grpcPort, httpPort] = [await freePort(), await freePort(), await freePort()]
    const container = docker(
      'run', '-d', '--network', 'host',
      '-e', 'OTLP_CLIENT_OTLP_ENDPOINT=http://127.0.0.1:9',
      '-e', `OTLP_CLIENT_SERVER_HEALTH_ADDR=127.0.0.1:${healthPort}`,
      '-e', `OTLP_CLIENT_SERVER_GRPC_ADDR=127.0.0.1:${grpcPort}`,
      '-e', `OTLP_CLIENT_SERVER_HTTP_ADDR=127.0.0.1:${httpPort}`,
      ref
    ) // prettier-ignore
    try {
      const answer = await health(`http://127.0.0.1:${healthPort}/health`, Date.now() + 30_000)
      const logs = typeof answer === 'string' ? docker('logs', container) : ''
      expect({ answer, logs }).toEqual({ answer: { status: 200, body: 'ok' }, logs: '' })
      // The image carries the labels the action computed.
      const labels = JSON.parse(docker('inspect', '--format', '{{json .Config.Labels}}', ref)) as Record<
        string,
        string
      >
      expect(labels['org.opencontainers.image.revision']).toBe('0123456789abcdef0123456789abcdef01234567')
    } finally {
      docker('rm', '-f', container)
    }
  })
})
