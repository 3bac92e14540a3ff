import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  buildahBuildArgs,
  buildahLoginArgs,
  buildahPushArgs,
  withLabelInstruction
} from '../../src/image/buildah.js'
import {
  buildxBuildArgs,
  buildxCreateArgs,
  chooseBuilder,
  parseBuildxInspect,
  parseBuildxMetadata
} from '../../src/image/buildx.js'
import type { BuildRequest } from '../../src/image/request.js'

const FIXTURES = join(import.meta.dirname, 'fixtures')

const base: BuildRequest = {
  context: '/w/ctx',
  file: '/w/ctx/Dockerfile',
  tags: ['r.example/app:1.2.3', 'r.example/app:latest'],
  labels: { 'org.opencontainers.image.version': '1.2.3' },
  platforms: ['linux/amd64', 'linux/arm64'],
  push: true,
  buildArgs: [],
  secretFiles: [],
  cacheFrom: [],
  cacheTo: [],
  provenance: '',
  sbom: '',
  noCache: false,
  target: ''
}

const opts = { builder: 'ci', metadataFile: '/tmp/x/meta.json' }

describe('buildx build command line', () => {
  it('builds and pushes every platform with tags, labels and a metadata file, context last', () => {
    expect(buildxBuildArgs(base, opts)).toEqual([
      'buildx', 'build', '--builder', 'ci', '--progress', 'plain', '--file', '/w/ctx/Dockerfile',
      '--platform', 'linux/amd64,linux/arm64',
      '--tag', 'r.example/app:1.2.3', '--tag', 'r.example/app:latest',
      '--label', 'org.opencontainers.image.version=1.2.3',
      '--push', '--metadata-file', '/tmp/x/meta.json', '/w/ctx'
    ]) // prettier-ignore
  })

  it('leaves out the platform flag when none is asked (the builder default)', () => {
    expect(buildxBuildArgs({ ...base, platforms: [] }, opts)).not.toContain('--platform')
  })

  it('does not push when push is false', () => {
    expect(buildxBuildArgs({ ...base, push: false }, opts)).not.toContain('--push')
  })

  it('passes secrets as files, never as values', () => {
    const args = buildxBuildArgs(
      { ...base, secretFiles: [{ id: 'npm_token', path: '/tmp/x/secret-0' }] },
      opts
    )
    expect(args).toContain('id=npm_token,src=/tmp/x/secret-0')
    expect(args[args.indexOf('id=npm_token,src=/tmp/x/secret-0') - 1]).toBe('--secret')
  })

  it('passes build args, caches, attestations, no-cache and target', () => {
    const args = buildxBuildArgs(
      {
        ...base,
        buildArgs: [['RUST_VERSION', '1.95']],
        cacheFrom: [
          { type: 'gha', attrs: {} },
          { type: 'registry', attrs: { ref: 'r.example/app:cache' } }
        ],
        cacheTo: [{ type: 'gha', attrs: { mode: 'max' } }],
        provenance: 'mode=max',
        sbom: 'true',
        noCache: true,
        target: 'runtime'
      },
      opts
    )
    expect(args.join(' ')).toContain(
      '--build-arg RUST_VERSION=1.95 --cache-from type=gha --cache-from type=registry,ref=r.example/app:cache ' +
        '--cache-to type=gha,mode=max --provenance=mode=max --sbom=true --no-cache --target runtime --push'
    )
  })
})

describe('buildx metadata file', () => {
  it('reads the index digest buildx pushed', () => {
    const meta = parseBuildxMetadata(readFileSync(join(FIXTURES, 'buildx-metadata.json'), 'utf8'))
    expect(meta.digest).toBe('sha256:51b252e050bd173078cb92f6aac63fcfce60e2c3c53656928c28758ff302d440')
    expect(meta.imageNames).toEqual(['127.0.0.1:25500/scratch/probe:1'])
  })

  it('has no digest when nothing was pushed', () => {
    expect(parseBuildxMetadata('{"buildx.build.ref":"b/b0/x"}').digest).toBe('')
  })

  it('rejects a file that is not JSON or a digest that is not one', () => {
    expect(() => parseBuildxMetadata('{')).toThrow(/not JSON/)
    expect(() => parseBuildxMetadata('{"containerimage.digest":"sha256:abc"}')).toThrow(
      /malformed containerimage.digest/
    )
  })
})

describe('buildx builder choice', () => {
  const remote = parseBuildxInspect(readFileSync(join(FIXTURES, 'buildx-inspect-remote.txt'), 'utf8'))

  it('reads name, driver, status and platforms from docker buildx inspect', () => {
    expect(remote).toEqual({
      name: 'otlp-testbed',
      driver: 'remote',
      status: 'running',
      platforms: [
        'linux/amd64',
        'linux/amd64/v2',
        'linux/amd64/v3',
        'linux/amd64/v4',
        'linux/arm64',
        'linux/386'
      ]
    })
  })

  it.each([
    [
      'uses an existing builder',
      { requested: 'otlp-testbed', endpoint: '', existing: remote, platformCount: 2 },
      { action: 'use', name: 'otlp-testbed' }
    ],
    [
      'creates a missing named builder on the BuildKit endpoint',
      { requested: 'ci', endpoint: 'unix:///run/buildkitd.sock', existing: undefined, platformCount: 2 },
      {
        action: 'create',
        name: 'ci',
        driver: 'remote',
        endpoint: 'unix:///run/buildkitd.sock',
        reason: 'builder ci does not exist'
      }
    ],
    [
      'creates a docker-container builder when nothing is set up and no endpoint is known',
      { requested: '', endpoint: '', existing: undefined, platformCount: 1 },
      {
        action: 'create',
        name: 'otlp-image-build',
        driver: 'docker-container',
        reason: 'no buildx builder is set up'
      }
    ],
    [
      'replaces the docker driver for a multi-platform build',
      {
        requested: '',
        endpoint: '',
        existing: { name: 'default', driver: 'docker', platforms: [], status: 'running' },
        platformCount: 2
      },
      {
        action: 'create',
        name: 'otlp-image-build',
        driver: 'docker-container',
        reason: 'the current builder default uses the docker driver, which cannot push a multi-platform index'
      }
    ],
    [
      'keeps the docker driver for one platform',
      {
        requested: '',
        endpoint: '',
        existing: { name: 'default', driver: 'docker', platforms: [], status: 'running' },
        platformCount: 1
      },
      { action: 'use', name: 'default' }
    ]
  ])('%s', (_, facts, plan) => {
    expect(chooseBuilder(facts)).toEqual(plan)
  })

  it('creates a remote builder with its endpoint as the last argument', () => {
    expect(buildxCreateArgs({ action: 'create', name: 'ci', driver: 'remote', endpoint: 'tcp://bk:1234', reason: '' })).toEqual([
      'buildx', 'create', '--name', 'ci', '--driver', 'remote', 'tcp://bk:1234'
    ]) // prettier-ignore
  })
})

describe('buildah command lines', () => {
  const o = { manifest: 'otlp-image-build-1', authFile: '/tmp/x/auth.json' }

  it('builds every platform into one manifest list, keeping layers for the cache', () => {
    expect(buildahBuildArgs(base, o)).toEqual([
      'build', '--manifest', 'otlp-image-build-1', '--authfile', '/tmp/x/auth.json', '--file', '/w/ctx/Dockerfile', '--layers',
      '--platform', 'linux/amd64,linux/arm64', '--label', 'org.opencontainers.image.version=1.2.3', '/w/ctx'
    ]) // prettier-ignore
  })

  it('passes secrets as files and registry caches as repositories', () => {
    const args = buildahBuildArgs(
      {
        ...base,
        secretFiles: [{ id: 'token', path: '/tmp/x/secret-0' }],
        cacheFrom: [{ type: 'registry', attrs: { ref: 'r.example:5000/app:cache' } }],
        cacheTo: [{ type: 'registry', attrs: { ref: 'r.example:5000/app-cache' } }],
        buildArgs: [['A', 'b=c']],
        noCache: true,
        target: 'runtime'
      },
      o
    )
    expect(args.join(' ')).toContain(
      '--build-arg A=b=c --secret id=token,src=/tmp/x/secret-0 --cache-from r.example:5000/app --cache-to r.example:5000/app-cache --no-cache --target runtime /w/ctx'
    )
  })

  it('pushes the whole list to a tag and records the digest in a file', () => {
    expect(buildahPushArgs('l', 'r.example/app:1', { authFile: '/a', digestFile: '/d' })).toEqual([
      'manifest', 'push', '--all', '--authfile', '/a', '--digestfile', '/d', 'l', 'docker://r.example/app:1'
    ]) // prettier-ignore
  })

  it('logs in with the password on standard input', () => {
    const args = buildahLoginArgs('127.0.0.1:5000', 'ci', '/a')
    expect(args).toContain('--password-stdin')
    expect(args).not.toContain('--password')
  })
})

describe('buildah labels in one instruction', () => {
  it('appends one LABEL with every label quoted', () => {
    expect(
      withLabelInstruction('FROM busybox\nRUN true\n\n', {
        a: 'x y',
        'org.opencontainers.image.title': 'relay'
      })
    ).toBe('FROM busybox\nRUN true\nLABEL "a"="x y" "org.opencontainers.image.title"="relay"\n')
  })

  it('escapes quotes, dollars and the escape character, and flattens newlines', () => {
    expect(withLabelInstruction('FROM busybox', { d: 'say "hi" $HOME C:\\tmp\nnext' })).toBe(
      'FROM busybox\nLABEL "d"="say \\"hi\\" \\$HOME C:\\\\tmp next"\n'
    )
  })

  it('uses the escape character the Dockerfile declares', () => {
    expect(withLabelInstruction('# escape=`\nFROM busybox', { d: 'a"b$c\\d' })).toBe(
      '# escape=`\nFROM busybox\nLABEL "d"="a`"b`$c\\d"\n'
    )
  })

  it('leaves a Dockerfile without labels alone', () => {
    expect(withLabelInstruction('FROM busybox\n', {})).toBe('FROM busybox\n')
  })
})

describe('buildah labels with a target stage', () => {
  const multi =
    'FROM rust AS builder\nRUN cargo build\n\n# the runtime\nFROM busybox AS prebuilt\nCOPY x /x\n\nFROM busybox AS runtime\nCOPY --from=builder /x /x\n'

  it('puts the LABEL at the end of the target stage, not after the last one', () => {
    expect(withLabelInstruction(multi, { a: 'b' }, 'prebuilt')).toBe(
      'FROM rust AS builder\nRUN cargo build\n\n# the runtime\nFROM busybox AS prebuilt\nCOPY x /x\nLABEL "a"="b"\n\nFROM busybox AS runtime\nCOPY --from=builder /x /x\n'
    )
  })

  it('appends to the last stage when it is the target', () => {
    expect(
      withLabelInstruction(multi, { a: 'b' }, 'runtime').endsWith(
        'COPY --from=builder /x /x\nLABEL "a"="b"\n'
      )
    ).toBe(true)
  })

  it('says when the target stage does not exist', () => {
    expect(() => withLabelInstruction(multi, { a: 'b' }, 'debug')).toThrow(
      'the Dockerfile has no stage named debug'
    )
  })
})
