/**
 * The otlp-client image built by the image-build action for the host platform (see
 * otlp-client-image.ts), pushed to the test bed registry, pulled by digest into the test bed's Docker
 * Engine, run, and its /health answering.
 */
import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createServer } from 'node:net'
import { leaksSecret } from '../harness/runner.js'
import { IMAGE_ENV, buildOtlpClientImage, health } from './otlp-client-image.js'
import { requireTestbed } from './testbed.js'

jest.setTimeout(900_000)

const tb = requireTestbed(...IMAGE_ENV, 'DOCKER_HOST')
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

describe('the otlp-client image', () => {
  it('is built and pushed by image-build, runs from its digest, and answers /health', async () => {
    const image = `${tb.REGISTRY}/e2e/otlp-client`
    const run = await buildOtlpClientImage(tb, image)
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
