import { Inputs } from '../../src/runtime/inputs.js'
import { InputError } from '../../src/runtime/errors.js'
import { parseCacheSpec, readImageBuildConfig } from '../../src/image/config.js'

const DEFAULTS: Record<string, string> = {
  images: 'ghcr.io/example/app',
  flavor: 'latest=auto',
  push: 'true',
  builder: 'auto',
  'no-cache': 'false',
  timeout: '30m',
  context: '.'
}

function parse(values: Record<string, string>) {
  const inputs = new Inputs(name => ({ ...DEFAULTS, ...values })[name] ?? '')
  const config = readImageBuildConfig(inputs)
  let problems: string[] = []
  try {
    inputs.done()
  } catch (err) {
    if (!(err instanceof InputError)) throw err
    problems = err.problems.map(p => `${p.input}: ${p.message}`)
  }
  return { config, problems }
}

describe('image build inputs', () => {
  it('defaults: Dockerfile in the context, the runner platform, push, auto builder, 30 minutes', () => {
    const { config, problems } = parse({ context: 'otlp-client' })
    expect(problems).toEqual([])
    expect(config).toMatchObject({
      context: 'otlp-client',
      file: 'otlp-client/Dockerfile',
      platforms: [],
      push: true,
      builder: 'auto',
      timeoutMs: 1_800_000
    })
    expect(config.tagRules.map(r => r.source)).toEqual([
      'type=schedule',
      'type=ref,event=branch',
      'type=ref,event=tag',
      'type=ref,event=pr'
    ])
  })

  it('reads platforms separated by commas or lines, without duplicates', () => {
    const { config } = parse({ platforms: 'linux/amd64, linux/arm64\nlinux/amd64\nlinux/arm/v7' })
    expect(config.platforms).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' }
    ])
  })

  it.each<[Record<string, string>, string]>([
    [
      { platforms: 'linux/arm65' },
      'platforms: "linux/arm65" names an unknown architecture "arm65"; use one of amd64, arm64'
    ],
    [
      { platforms: 'arm64' },
      'platforms: "arm64" is not a platform; use os/architecture[/variant] such as linux/arm64'
    ],
    [{ platforms: 'darwin/arm64' }, 'platforms: "darwin/arm64" names an unknown operating system "darwin"'],
    [{ images: '' }, 'images: is required and was not given'],
    [{ images: 'ghcr.io/Example/my app' }, 'images: "ghcr.io/Example/my app" is not an image name'],
    [{ tags: 'type=semver' }, 'tags: tag rule 1 "type=semver": type=semver needs a pattern'],
    [
      { flavor: 'latest=maybe' },
      'flavor: flavor line 1 "latest=maybe": latest=maybe is not one of auto, true, false'
    ],
    [{ builder: 'kaniko' }, 'builder: "kaniko" is not one of auto, buildx, buildah'],
    [
      { 'cache-from': 'type=s3,bucket=x' },
      'cache-from: "type=s3,bucket=x": type=s3 is not one of gha, registry, local, inline'
    ],
    [
      { 'cache-to': 'type=registry,mode=max' },
      'cache-to: "type=registry,mode=max": type=registry needs ref=<image>'
    ],
    [
      { builder: 'buildah', 'cache-from': 'type=gha' },
      'cache-from: buildah can only use registry caches, not type=gha'
    ],
    [
      { builder: 'buildah', provenance: 'mode=max' },
      'provenance: buildah does not produce provenance attestations'
    ],
    [{ provenance: 'maximal' }, 'provenance: "maximal" is not true, false or mode=min|max'],
    [{ username: 'ci' }, 'password: is required when a username is given (user "ci")'],
    [{ password: 'hunter2-hunter2' }, 'username: is required when a password is given'],
    [{ timeout: 'soon' }, 'timeout: "soon" is not a duration'],
    [{ target: 'bad stage' }, 'target: "bad stage" is not a build stage name'],
    [{ 'build-args': 'NOVALUE' }, 'build-args: "NOVALUE" is not a key=value pair']
  ])('rejects %j', (values, message) => {
    const { problems } = parse(values)
    expect(problems.join('\n')).toContain(message)
  })

  it('reads secrets by id and never quotes a value back', () => {
    const { config, problems } = parse({
      secrets: 'npm_token=s3cr3t-value-1\ngit-auth=a=b=c\nbad id=s3cr3t-value-2'
    })
    expect([...config.secrets.keys()]).toEqual(['npm_token', 'git-auth'])
    expect(config.secrets.get('git-auth')).toBe('a=b=c')
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain('id "bad id"')
    expect(problems[0]).not.toContain('s3cr3t')
  })

  it('accepts every attestation spelling buildx does', () => {
    for (const provenance of [
      'true',
      'false',
      'mode=min',
      'mode=max',
      'mode=max,builder-id=https://ci.example/1'
    ]) {
      expect(parse({ provenance }).problems).toEqual([])
    }
  })
})

describe('cache specs', () => {
  it.each([
    ['type=gha', { type: 'gha', attrs: {} }],
    ['type=gha,mode=max,scope=relay', { type: 'gha', attrs: { mode: 'max', scope: 'relay' } }],
    [
      'type=registry,ref=ghcr.io/o/app:cache,mode=max',
      { type: 'registry', attrs: { ref: 'ghcr.io/o/app:cache', mode: 'max' } }
    ],
    ['type=local,src=/tmp/cache', { type: 'local', attrs: { src: '/tmp/cache' } }],
    ['ghcr.io/o/app:cache', { type: 'registry', attrs: { ref: 'ghcr.io/o/app:cache' } }]
  ])('%s', (text, spec) => {
    expect(parseCacheSpec(text)).toEqual(spec)
  })
})
