/**
 * image-build end to end on the test bed, through the runner-faithful harness: two-platform
 * builds with a RUN step by buildx (the test bed's remote BuildKit) and by buildah, pushed to the
 * authenticated registry with the action's own log-in; the `digest` output must be what the
 * registry serves. Also: a wrong password, a failing RUN step, a missing Dockerfile, a missing
 * buildx builder. Needs `make testbed-up` (the image side: registry, buildkitd, buildah, QEMU).
 */
import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { type ActionRun, leaksSecret, runAction } from '../harness/runner.js'
import { eventEnv, eventPayload } from '../image/events.js'
import { requireTestbed } from './testbed.js'

const tb = requireTestbed(
  'REGISTRY',
  'REGISTRY_USERNAME',
  'REGISTRY_PASSWORD',
  'BUILDKIT_HOST',
  'BUILDX_BUILDER',
  'TESTBED_BASE_IMAGE',
  'DOCKER_CONFIG'
)
jest.setTimeout(600_000)

const nonce = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
const INDEX = 'application/vnd.oci.image.index.v1+json'
const MANIFEST_TYPES = [
  INDEX,
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json'
].join(', ')

/** A DOCKER_CONFIG with the test bed's builders and plug-ins but no credentials: the action must log in itself. */
function credentialFreeDockerConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-docker-config-'))
  for (const entry of readdirSync(tb.DOCKER_CONFIG!))
    if (entry !== 'config.json') symlinkSync(join(tb.DOCKER_CONFIG!, entry), join(dir, entry))
  writeFileSync(join(dir, 'config.json'), '{}\n')
  return dir
}

function workspace(dockerfile: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-image-build-'))
  mkdirSync(join(dir, 'app'))
  writeFileSync(join(dir, 'app', 'Dockerfile'), dockerfile)
  writeFileSync(join(dir, 'app', 'message.txt'), `image-build e2e ${nonce}\n`)
  return dir
}

// The secret is checked by its hash so that the Dockerfile (which builders echo) never holds it.
const SECRET = `build-token-${nonce}-do-not-print`
const SECRET_SHA = createHash('sha256').update(SECRET).digest('hex')
const DOCKERFILE = `ARG BASE
FROM \${BASE}
RUN --mount=type=secret,id=build_token test "$(sha256sum < /run/secrets/build_token | cut -c1-64)" = "${SECRET_SHA}" && echo "secret mounted"
COPY message.txt /message.txt
RUN echo "arch=$(uname -m) $(cat /message.txt)" > /built-on && cat /built-on
`

function env(extra: Record<string, string> = {}): Record<string, string> {
  const authFile = join(mkdtempSync(join(tmpdir(), 'e2e-auth-')), 'auth.json')
  writeFileSync(authFile, '{"auths":{}}\n')
  return {
    DOCKER_CONFIG: credentialFreeDockerConfig(),
    REGISTRY_AUTH_FILE: authFile,
    BUILDKIT_HOST: tb.BUILDKIT_HOST!,
    BUILDX_BUILDER: tb.BUILDX_BUILDER!,
    ...(tb.DOCKER_HOST ? { DOCKER_HOST: tb.DOCKER_HOST } : {}),
    ...(tb.CONTAINERS_REGISTRIES_CONF ? { CONTAINERS_REGISTRIES_CONF: tb.CONTAINERS_REGISTRIES_CONF } : {}),
    ...(tb.CONTAINERS_STORAGE_CONF ? { CONTAINERS_STORAGE_CONF: tb.CONTAINERS_STORAGE_CONF } : {}),
    ...(tb.CONTAINERS_CONF ? { CONTAINERS_CONF: tb.CONTAINERS_CONF } : {}),
    ...extra
  }
}

const basic = `Basic ${Buffer.from(`${tb.REGISTRY_USERNAME}:${tb.REGISTRY_PASSWORD}`).toString('base64')}`

async function registryGet(path: string, accept = MANIFEST_TYPES): Promise<Response> {
  const res = await fetch(`http://${tb.REGISTRY}${path}`, {
    headers: { Authorization: basic, Accept: accept }
  })
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`)
  return res
}

/** Reads one file from a gzipped layer tar. */
function fileInLayer(layer: Buffer, name: string): string | undefined {
  const tar = gunzipSync(layer)
  for (let off = 0; off + 512 <= tar.length;) {
    const header = tar.subarray(off, off + 512)
    const path = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '')
    if (!path) return undefined
    const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8)
    if (path.replace(/^\.\//, '') === name) return tar.subarray(off + 512, off + 512 + size).toString('utf8')
    off += 512 + Math.ceil(size / 512) * 512
  }
  return undefined
}

function errors(run: ActionRun): string[] {
  return run.annotations.filter(a => a.level === 'error').map(a => a.message)
}

const push = { name: 'push', payload: eventPayload('push_main') }
const github = eventEnv('push_main')

describe.each(['buildx', 'buildah'] as const)('image-build with %s on the test bed', builder => {
  const image = `${tb.REGISTRY}/e2e/image-build-${builder}`

  it('builds linux/amd64 and linux/arm64 with a RUN step, pushes, and outputs the digest the registry serves', async () => {
    const run = await runAction({
      action: 'image-build',
      cwd: workspace(DOCKERFILE),
      event: push,
      github,
      env: env(),
      inputs: {
        context: 'app',
        images: image,
        tags: `type=ref,event=branch\ntype=sha\ntype=raw,value=run-${nonce}`,
        platforms: 'linux/amd64,linux/arm64',
        builder,
        'build-args': `BASE=${tb.TESTBED_BASE_IMAGE}`,
        labels: 'org.opencontainers.image.vendor=otlp-deploy-actions e2e',
        secrets: `build_token=${SECRET}`,
        username: tb.REGISTRY_USERNAME!,
        password: tb.REGISTRY_PASSWORD!,
        timeout: '8m'
      },
      timeoutMs: 480_000
    })
    expect({ exitCode: run.exitCode, errors: errors(run) }).toEqual({ exitCode: 0, errors: [] })
    expect(leaksSecret(run, tb.REGISTRY_PASSWORD!)).toBe(false)
    expect(leaksSecret(run, SECRET)).toBe(false)
    expect(run.log).toContain('secret mounted')

    const digest = run.outputs.digest!
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(run.outputs['image-ref']).toBe(`${image}@${digest}`)
    expect(run.outputs.builder).toBe(builder)
    expect(run.outputs.version).toBe('main')
    // raw (priority 200) sorts before sha (100)
    expect(run.outputs.tags!.split('\n')).toEqual([
      `${image}:main`,
      `${image}:run-${nonce}`,
      `${image}:sha-860c190`
    ])
    expect(run.outputs.labels).toContain(
      'org.opencontainers.image.revision=860c1904a1ce19322e91ac35af1ab07466440c37'
    )

    // Every pushed tag resolves to exactly the output digest.
    const repo = `e2e/image-build-${builder}`
    for (const tag of ['main', `run-${nonce}`]) {
      const res = await registryGet(`/v2/${repo}/manifests/${tag}`)
      expect({ tag, digest: res.headers.get('docker-content-digest') }).toEqual({ tag, digest })
    }
    const index = (await (await registryGet(`/v2/${repo}/manifests/${digest}`)).json()) as {
      manifests: { digest: string; platform: { os: string; architecture: string } }[]
    }
    const platforms = index.manifests
      .map(m => `${m.platform.os}/${m.platform.architecture}`)
      .filter(p => p !== 'unknown/unknown')
    expect(platforms.sort()).toEqual(['linux/amd64', 'linux/arm64'])

    // The RUN step really ran on each platform (arm64 under QEMU).
    for (const [arch, uname] of [
      ['amd64', 'x86_64'],
      ['arm64', 'aarch64']
    ]) {
      const entry = index.manifests.find(m => m.platform.architecture === arch)!
      const manifest = (await (await registryGet(`/v2/${repo}/manifests/${entry.digest}`)).json()) as {
        layers: { digest: string }[]
      }
      const layer = Buffer.from(
        await (await registryGet(`/v2/${repo}/blobs/${manifest.layers.at(-1)!.digest}`, '*/*')).arrayBuffer()
      )
      expect(fileInLayer(layer, 'built-on')).toBe(`arch=${uname} image-build e2e ${nonce}\n`)
    }

    const metadata = JSON.parse(run.outputs.metadata!) as {
      sizes: { platform: string; bytes: number }[]
      digest: string
    }
    expect(metadata.digest).toBe(digest)
    // buildah records arm64's variant (linux/arm64/v8), buildx does not
    expect(metadata.sizes.map(s => s.platform.replace(/\/v8$/, '')).sort()).toEqual([
      'linux/amd64',
      'linux/arm64'
    ])
    for (const s of metadata.sizes) expect(s.bytes).toBeGreaterThan(100_000)
    expect(run.summary).toContain(`${image}@${digest}`)
    expect(run.summary).toContain('Size per platform')
    expect(run.summary).toMatch(/\| Cache \| \d+ of \d+ steps from cache \|/)
  })

  it('fails clearly on a wrong password and never prints it', async () => {
    const wrong = `wrong-password-${nonce}`
    const run = await runAction({
      action: 'image-build',
      cwd: workspace(DOCKERFILE),
      event: push,
      github,
      env: env(),
      inputs: {
        context: 'app',
        images: image,
        builder,
        secrets: `build_token=${SECRET}`,
        username: tb.REGISTRY_USERNAME!,
        password: wrong,
        'build-args': `BASE=${tb.TESTBED_BASE_IMAGE}`
      },
      timeoutMs: 120_000
    })
    expect(run.exitCode).toBe(1)
    expect(errors(run)).toHaveLength(1)
    expect(errors(run)[0]).toContain(
      `Registry ${tb.REGISTRY} rejected the credentials of user "${tb.REGISTRY_USERNAME}"`
    )
    expect(errors(run)[0]).toContain('The password is never shown')
    expect(leaksSecret(run, wrong)).toBe(false)
    expect(run.outputs.digest ?? '').toBe('')
  })

  it('names the failing RUN step and shows its last lines in the summary', async () => {
    const run = await runAction({
      action: 'image-build',
      cwd: workspace(
        `ARG BASE\nFROM \${BASE}\nRUN echo "linking otlp-client ${nonce}" && echo "ld: cannot find -lssl" >&2 && exit 7\n`
      ),
      event: push,
      github,
      env: env(),
      inputs: {
        context: 'app',
        images: image,
        builder,
        platforms: 'linux/amd64',
        'build-args': `BASE=${tb.TESTBED_BASE_IMAGE}`,
        username: tb.REGISTRY_USERNAME!,
        password: tb.REGISTRY_PASSWORD!
      },
      timeoutMs: 180_000
    })
    expect(run.exitCode).toBe(1)
    // buildah numbers its LABEL steps too: [2/10]
    expect(errors(run)[0]).toMatch(
      /^The image build failed at \[(?:linux\/amd64 )?2\/\d+\] RUN echo "linking otlp-client/
    )
    expect(run.summary).toContain('Image build failed')
    expect(run.summary).toContain(`linking otlp-client ${nonce}`)
    expect(run.summary).toContain('ld: cannot find -lssl')
    expect(run.summary).toMatch(/exit (code|status):? 7/)
  })
})

describe('image-build preflight and builder set-up', () => {
  it('fails naming the Dockerfile it did not find', async () => {
    const run = await runAction({
      action: 'image-build',
      cwd: workspace(DOCKERFILE),
      event: push,
      github,
      env: env(),
      inputs: {
        context: 'app',
        file: 'app/Containerfile',
        images: `${tb.REGISTRY}/e2e/missing`,
        builder: 'buildx'
      },
      timeoutMs: 60_000
    })
    expect(run.exitCode).toBe(1)
    expect(errors(run)[0]).toMatch(
      /^Dockerfile not found: app\/Containerfile \(looked for .*\/app\/Containerfile\)/
    )
  })

  /** `docker buildx inspect NAME` succeeds: the builder exists. */
  const builderExists = (name: string, dockerConfig: string): boolean => {
    try {
      execFileSync('docker', ['buildx', 'inspect', name], {
        env: { ...process.env, DOCKER_CONFIG: dockerConfig },
        stdio: 'ignore'
      })
      return true
    } catch {
      return false
    }
  }
  const removeIfThere = (name: string, dockerConfig: string) => {
    if (builderExists(name, dockerConfig))
      execFileSync('docker', ['buildx', 'rm', name], {
        env: { ...process.env, DOCKER_CONFIG: dockerConfig },
        stdio: 'ignore'
      })
  }
  /** The image-build step that names a builder which does not exist yet, or its post phase. */
  const freshBuilderStep = (
    name: string,
    dockerConfig: string,
    extra: Record<string, string> = {},
    post?: { state: Record<string, string> }
  ) =>
    runAction({
      action: 'image-build',
      cwd: workspace(DOCKERFILE),
      event: push,
      github,
      env: env({ DOCKER_CONFIG: dockerConfig }),
      inputs: {
        context: 'app',
        images: `${tb.REGISTRY}/e2e/fresh-builder`,
        builder: 'buildx',
        'buildx-builder': name,
        'buildkit-endpoint': tb.BUILDKIT_HOST!,
        secrets: `build_token=${SECRET}`,
        'build-args': `BASE=${tb.TESTBED_BASE_IMAGE}`,
        username: tb.REGISTRY_USERNAME!,
        password: tb.REGISTRY_PASSWORD!,
        push: 'false',
        ...extra
      },
      ...(post ? { post } : {}),
      timeoutMs: 180_000
    })

  it('creates the buildx builder when it is missing, on the BuildKit endpoint, and its post step removes it', async () => {
    const name = `otlp-e2e-${nonce}`
    const dockerConfig = credentialFreeDockerConfig()
    try {
      const run = await freshBuilderStep(name, dockerConfig)
      expect({ exitCode: run.exitCode, errors: errors(run) }).toEqual({ exitCode: 0, errors: [] })
      expect(run.log).toContain(
        `creating buildx builder ${name} (remote at ${tb.BUILDKIT_HOST}): builder ${name} does not exist`
      )
      expect(run.outputs.digest).toBe('')
      expect(run.summary).toContain('(not pushed)')
      expect(run.state['created-builder']).toBe(name)
      expect(builderExists(name, dockerConfig)).toBe(true)

      // The runner's post phase at the end of the job, with the state the main phase saved.
      const post = await freshBuilderStep(name, dockerConfig, {}, { state: run.state })
      expect({ exitCode: post.exitCode, errors: errors(post) }).toEqual({ exitCode: 0, errors: [] })
      expect(post.log).toContain(`removed the buildx builder ${name} this step created`)
      expect(builderExists(name, dockerConfig)).toBe(false)
    } finally {
      removeIfThere(name, dockerConfig)
    }
  })

  it('keep-builder: true leaves the builder it created, and its post step does nothing', async () => {
    const name = `otlp-e2e-keep-${nonce}`
    const dockerConfig = credentialFreeDockerConfig()
    const keep = { 'keep-builder': 'true' }
    try {
      const run = await freshBuilderStep(name, dockerConfig, keep)
      expect({ exitCode: run.exitCode, errors: errors(run) }).toEqual({ exitCode: 0, errors: [] })
      expect(run.state['created-builder']).toBeUndefined()
      const post = await freshBuilderStep(name, dockerConfig, keep, { state: run.state })
      expect({ exitCode: post.exitCode, removed: post.log.includes('removed the buildx builder') }).toEqual({
        exitCode: 0,
        removed: false
      })
      expect(builderExists(name, dockerConfig)).toBe(true)
    } finally {
      removeIfThere(name, dockerConfig)
    }
  })

  it('stops the build at the timeout and says so', async () => {
    const started = Date.now()
    const run = await runAction({
      action: 'image-build',
      cwd: workspace(`ARG BASE\nFROM \${BASE}\nRUN echo "slow step ${nonce}" && sleep 120\n`),
      event: push,
      github,
      env: env(),
      inputs: {
        context: 'app',
        images: `${tb.REGISTRY}/e2e/slow`,
        builder: 'buildx',
        'build-args': `BASE=${tb.TESTBED_BASE_IMAGE}`,
        username: tb.REGISTRY_USERNAME!,
        password: tb.REGISTRY_PASSWORD!,
        timeout: '8s'
      },
      timeoutMs: 90_000
    })
    expect(run.exitCode).toBe(1)
    expect(errors(run)[0]).toMatch(
      /^The image build did not finish within 8s \(timeout input\); it was stopped/
    )
    expect(Date.now() - started).toBeLessThan(60_000)
  })
})
