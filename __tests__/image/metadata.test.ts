import { computeMetadata, labelLines } from '../../src/image/metadata/metadata.js'
import { RuleError, parseFlavor, parseImageRules, parseTagRules } from '../../src/image/metadata/rules.js'
import { type EventName, eventContext } from './events.js'

interface Case {
  tags?: string[]
  flavor?: string[]
  images?: string[]
  labels?: Record<string, string>
  env?: Record<string, string>
}

function meta(event: EventName, c: Case = {}) {
  return computeMetadata(eventContext(event, c.env), {
    images: parseImageRules(c.images ?? ['ghcr.io/example/otlp-service']),
    tags: parseTagRules(c.tags ?? []),
    flavor: parseFlavor(c.flavor ?? []),
    labels: new Map(Object.entries(c.labels ?? {}))
  })
}

const values = (event: EventName, c: Case = {}) => meta(event, c).tagValues

describe('default tag rules over each event', () => {
  it.each<[EventName, string[], string]>([
    ['push_main', ['main'], 'main'],
    ['push_feature', ['feature-OTLP_gRPC-retry'], 'feature-OTLP_gRPC-retry'],
    ['tag_v1_2_3', ['v1.2.3', 'latest'], 'v1.2.3'],
    // type=ref,event=tag moves latest even for a pre-release tag, as docker/metadata-action does
    ['tag_v2_0_8_beta_67', ['v2.0.8-beta.67', 'latest'], 'v2.0.8-beta.67'],
    ['pull_request', ['pr-15'], 'pr-15'],
    ['schedule', ['nightly', 'main'], 'nightly'],
    ['workflow_dispatch', ['release-2.x'], 'release-2.x']
  ])('%s gives %j with version %s', (event, expected, version) => {
    const m = meta(event)
    expect(m.tagValues).toEqual(expected)
    expect(m.version).toBe(version)
    expect(m.tags).toEqual(expected.map(t => `ghcr.io/example/otlp-service:${t}`))
  })
})

describe('a typical release workflow over each event', () => {
  const tags = [
    'type=ref,event=branch',
    'type=ref,event=pr',
    'type=semver,pattern={{version}}',
    'type=semver,pattern={{major}}.{{minor}}',
    'type=semver,pattern={{major}}',
    'type=sha'
  ]
  it.each<[EventName, string[]]>([
    ['push_main', ['main', 'sha-860c190']],
    ['push_feature', ['feature-OTLP_gRPC-retry', 'sha-a5df687']],
    ['tag_v1_2_3', ['1.2.3', '1.2', '1', 'sha-ad132f5', 'latest']],
    // pre-releases: only the full version, never latest
    ['tag_v2_0_8_beta_67', ['2.0.8-beta.67', 'sha-fc89efd']],
    ['pull_request', ['pr-15', 'sha-5a1cd3e']],
    ['schedule', ['main', 'sha-860c190']],
    ['workflow_dispatch', ['release-2.x', 'sha-0b1c2d3']]
  ])('%s gives %j', (event, expected) => {
    expect(values(event, { tags })).toEqual(expected)
  })
})

describe('each tag type', () => {
  it.each<[string, EventName, string[], string[]]>([
    ['schedule default pattern', 'schedule', ['type=schedule'], ['nightly']],
    ['schedule on a push', 'push_main', ['type=schedule'], []],
    ['schedule date pattern', 'schedule', ["type=schedule,pattern={{date 'YYYYMMDD'}}"], ['20261126']],
    [
      'schedule date with zone',
      'schedule',
      ["type=schedule,pattern={{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}"],
      ['20261126-183005']
    ],
    ['semver raw', 'tag_v1_2_3', ['type=semver,pattern={{raw}}'], ['v1.2.3', 'latest']],
    ['semver v-major', 'tag_v1_2_3', ['type=semver,pattern=v{{major}}'], ['v1', 'latest']],
    [
      'semver minor and patch',
      'tag_v1_2_3',
      ['type=semver,pattern={{minor}}', 'type=semver,pattern={{patch}}'],
      ['2', '3', 'latest']
    ],
    ['semver on a branch', 'push_main', ['type=semver,pattern={{version}}'], []],
    [
      'semver with a value',
      'push_main',
      ['type=semver,pattern={{major}}.{{minor}},value=v3.4.5'],
      ['3.4', 'latest']
    ],
    ['semver not a version', 'push_main', ['type=semver,pattern={{version}},value=release1'], []],
    ['semver pre-release raw', 'tag_v2_0_8_beta_67', ['type=semver,pattern={{raw}}'], ['v2.0.8-beta.67']],
    ['semver pre-release major', 'tag_v2_0_8_beta_67', ['type=semver,pattern={{major}}'], ['2.0.8-beta.67']],
    [
      'match group 1',
      'tag_v2_0_8_beta_67',
      ['type=match,pattern=v(.*),group=1'],
      ['2.0.8-beta.67', 'latest']
    ],
    ['match group 0', 'tag_v1_2_3', ['type=match,pattern=\\d.\\d.\\d'], ['1.2.3', 'latest']],
    ['match major.minor', 'tag_v2_0_8_beta_67', ['type=match,pattern=v(\\d.\\d),group=1'], ['2.0', 'latest']],
    ['match no match', 'tag_v1_2_3', ['type=match,pattern=^release-(.*),group=1'], []],
    ['match a value', 'push_main', ['type=match,pattern=\\d+,value=20200110-RC2'], ['20200110', 'latest']],
    ['edge on default branch', 'push_main', ['type=edge'], ['edge']],
    ['edge on another branch', 'push_feature', ['type=edge'], []],
    ['edge with a branch', 'workflow_dispatch', ['type=edge,branch=release/2.x'], ['edge']],
    ['edge on schedule (default branch from the ref)', 'schedule', ['type=edge'], ['edge']],
    ['ref branch', 'workflow_dispatch', ['type=ref,event=branch'], ['release-2.x']],
    ['ref tag on a branch', 'push_main', ['type=ref,event=tag'], []],
    ['ref pr with own prefix', 'pull_request', ['type=ref,event=pr,prefix=pull-'], ['pull-15']],
    ['ref pr on a push', 'push_main', ['type=ref,event=pr'], []],
    ['raw forms', 'push_main', ['type=raw,value=foo', 'type=raw,bar', 'baz'], ['foo', 'bar', 'baz']],
    [
      'raw with expressions',
      'push_feature',
      ['type=raw,value={{branch}}-{{sha}}'],
      ['feature-OTLP_gRPC-retry-a5df687']
    ],
    ['raw with base_ref', 'pull_request', ['type=raw,value=into-{{base_ref}}'], ['into-main']],
    ['raw with tag', 'tag_v1_2_3', ['type=raw,value=t{{tag}}'], ['tv1.2.3']],
    ['sha short', 'push_main', ['type=sha'], ['sha-860c190']],
    ['sha long', 'push_main', ['type=sha,format=long'], ['sha-860c1904a1ce19322e91ac35af1ab07466440c37']],
    ['sha without prefix', 'push_main', ['type=sha,prefix='], ['860c190']],
    [
      'sha with branch prefix',
      'push_feature',
      ['type=sha,prefix={{branch}}-'],
      ['feature-OTLP_gRPC-retry-a5df687']
    ]
  ])('%s', (_, event, tags, expected) => {
    expect(values(event, { tags })).toEqual(expected)
  })

  it('uses the head commit on pull requests when DOCKER_METADATA_PR_HEAD_SHA is true', () => {
    expect(
      values('pull_request', { tags: ['type=sha'], env: { DOCKER_METADATA_PR_HEAD_SHA: 'true' } })
    ).toEqual(['sha-b9e8d7c'])
  })

  it('lengthens short shas with DOCKER_METADATA_SHORT_SHA_LENGTH', () => {
    expect(
      values('push_main', { tags: ['type=sha'], env: { DOCKER_METADATA_SHORT_SHA_LENGTH: '12' } })
    ).toEqual(['sha-860c1904a1ce'])
  })
})

describe('pep440', () => {
  it.each<[string, string, string[]]>([
    ['1.2.3', '{{raw}}', ['1.2.3', 'latest']],
    ['1.2.3', '{{version}}', ['1.2.3', 'latest']],
    ['v1.2.3', '{{version}}', ['1.2.3', 'latest']],
    ['1.2.3', '{{major}}.{{minor}}', ['1.2', 'latest']],
    ['1.2.3', 'v{{major}}', ['v1', 'latest']],
    ['1.2', '{{major}}.{{minor}}.{{patch}}', ['1.2.0', 'latest']],
    ['v1.2.3rc2', '{{raw}}', ['v1.2.3rc2']],
    ['1.2.3rc2', '{{version}}', ['1.2.3rc2']],
    ['1.2.3rc2', '{{major}}.{{minor}}', ['1.2.3rc2']],
    ['1.2.3post1', '{{major}}.{{minor}}', ['1.2.3.post1']],
    ['1.2.3beta2', '{{major}}.{{minor}}', ['1.2.3b2']],
    ['1.2.3-alpha.1', '{{version}}', ['1.2.3a1']],
    ['1.0dev4', '{{major}}.{{minor}}', ['1.0.dev4']],
    ['1.0-1', '{{version}}', ['1.0.post1']],
    ['1!2.0', '{{version}}', ['1-2.0', 'latest']],
    ['1.2.3+Ubuntu_1', '{{version}}', ['1.2.3-ubuntu.1', 'latest']]
  ])('%s with pattern %s gives %j', (version, pattern, expected) => {
    expect(values('push_main', { tags: [`type=pep440,pattern=${pattern},value=${version}`] })).toEqual(
      expected
    )
  })

  it('ignores a tag that is not PEP 440 and says why', () => {
    const m = meta('tag_v2_0_8_beta_67', { tags: ['type=pep440,pattern={{version}},value=release-one'] })
    expect(m.tagValues).toEqual([])
    expect(m.notes).toEqual([
      'type=pep440,pattern={{version}},value=release-one: "release-one" is not a PEP 440 version'
    ])
  })
})

describe('priority', () => {
  it('sorts by priority, highest first, the first being the version', () => {
    const m = meta('tag_v1_2_3', {
      tags: ['type=sha', 'type=raw,value=stable', 'type=ref,event=tag', 'type=semver,pattern={{major}}']
    })
    expect(m.tagValues).toEqual(['1', 'v1.2.3', 'stable', 'sha-ad132f5', 'latest'])
    expect(m.version).toBe('1')
  })

  it('keeps the written order for equal priorities', () => {
    expect(
      values('push_main', { tags: ['type=raw,value=b', 'type=raw,value=a', 'type=raw,value=c'] })
    ).toEqual(['b', 'a', 'c'])
  })

  it('lets an explicit priority promote a rule to the version', () => {
    const m = meta('tag_v1_2_3', { tags: ['type=semver,pattern={{version}}', 'type=sha,priority=1001'] })
    expect(m.tagValues).toEqual(['sha-ad132f5', '1.2.3', 'latest'])
    expect(m.version).toBe('sha-ad132f5')
    expect(m.labels['org.opencontainers.image.version']).toBe('sha-ad132f5')
  })

  it('lets the highest-priority rule decide latest', () => {
    // semver (900) sees a pre-release first, so ref event=tag (600) cannot move latest
    expect(
      values('tag_v2_0_8_beta_67', { tags: ['type=ref,event=tag', 'type=semver,pattern={{version}}'] })
    ).toEqual(['2.0.8-beta.67', 'v2.0.8-beta.67'])
  })
})

describe('enable expressions', () => {
  it.each<[EventName, string[]]>([
    ['push_main', ['main', 'latest']],
    ['push_feature', ['feature-OTLP_gRPC-retry']],
    ['pull_request', []],
    // a tag pushed from the default branch carries base_ref
    ['tag_v1_2_3', ['latest']],
    ['tag_v2_0_8_beta_67', []],
    ['schedule', ['main', 'latest']],
    ['workflow_dispatch', ['release-2.x']]
  ])('{{is_default_branch}} on %s', (event, expected) => {
    expect(
      values(event, { tags: ['type=ref,event=branch', 'type=raw,value=latest,enable={{is_default_branch}}'] })
    ).toEqual(expected)
  })

  it('drops a rule with enable=false and an image with enable=false', () => {
    const m = meta('push_main', {
      tags: ['type=ref,event=branch', 'type=sha,enable=false'],
      images: ['name=ghcr.io/example/a', 'name=ghcr.io/example/b,enable=false']
    })
    expect(m.tags).toEqual(['ghcr.io/example/a:main'])
  })

  it('rejects an enable that is neither true nor false', () => {
    expect(() => meta('push_main', { tags: ['type=sha,enable=yes'] })).toThrow(
      /enable=yes is "yes", not true or false/
    )
  })
})

describe('prefix and suffix', () => {
  it.each<[string, EventName, string[], string[], string[]]>([
    [
      'flavor prefix on generated tags, not on latest',
      'tag_v1_2_3',
      ['type=semver,pattern={{version}}'],
      ['prefix=app-'],
      ['app-1.2.3', 'latest']
    ],
    [
      'flavor prefix on latest too',
      'tag_v1_2_3',
      ['type=semver,pattern={{version}}'],
      ['prefix=app-,onlatest=true'],
      ['app-1.2.3', 'app-latest']
    ],
    [
      'flavor suffix',
      'tag_v1_2_3',
      ['type=semver,pattern={{version}}'],
      ['suffix=-alpine'],
      ['1.2.3-alpine', 'latest']
    ],
    [
      'flavor suffix on latest',
      'tag_v1_2_3',
      ['type=semver,pattern={{version}}'],
      ['suffix=-alpine,onlatest=true'],
      ['1.2.3-alpine', 'latest-alpine']
    ],
    [
      'rule prefix replaces the flavor prefix',
      'push_main',
      ['type=ref,event=branch,prefix=br-'],
      ['prefix=app-'],
      ['br-main']
    ],
    ['sha keeps its own default prefix', 'push_main', ['type=sha'], ['prefix=app-'], ['sha-860c190']],
    ['rule suffix', 'push_main', ['type=ref,event=branch,suffix=-{{sha}}'], [], ['main-860c190']]
  ])('%s', (_, event, tags, flavor, expected) => {
    expect(values(event, { tags, flavor })).toEqual(expected)
  })

  it('puts the prefix into the version output', () => {
    expect(
      meta('tag_v1_2_3', { tags: ['type=semver,pattern={{version}}'], flavor: ['prefix=app-'] }).version
    ).toBe('app-1.2.3')
  })
})

describe('latest', () => {
  it.each<[string, EventName, string, string[]]>([
    ['auto on a release tag', 'tag_v1_2_3', 'latest=auto', ['1.2.3', 'latest']],
    ['false on a release tag', 'tag_v1_2_3', 'latest=false', ['1.2.3']],
    ['true on a branch', 'push_feature', 'latest=true', ['feature-OTLP_gRPC-retry', 'latest']],
    ['auto on a branch', 'push_main', 'latest=auto', ['main']],
    ['true on a pre-release', 'tag_v2_0_8_beta_67', 'latest=true', ['2.0.8-beta.67', 'latest']],
    ['auto on a pre-release', 'tag_v2_0_8_beta_67', 'latest=auto', ['2.0.8-beta.67']]
  ])('%s', (_, event, flavor, expected) => {
    expect(
      values(event, { tags: ['type=ref,event=branch', 'type=semver,pattern={{version}}'], flavor: [flavor] })
    ).toEqual(expected)
  })

  it('never adds latest alone when no rule produced a tag', () => {
    expect(values('pull_request', { tags: ['type=ref,event=branch'], flavor: ['latest=true'] })).toEqual([])
  })

  it('does not repeat latest given as a raw tag', () => {
    expect(
      values('tag_v1_2_3', { tags: ['type=semver,pattern={{version}}', 'type=raw,value=latest'] })
    ).toEqual(['1.2.3', 'latest'])
  })
})

describe('sanitising', () => {
  it.each<[string, string]>([
    ['feature/OTLP_gRPC+retry', 'feature-OTLP_gRPC-retry'],
    ['a//b  c', 'a-b-c'],
    ['.hidden', 'hidden'],
    ['-dash', 'dash'],
    ['ünïcode/name', 'n-code-name'],
    ['x'.repeat(140), 'x'.repeat(128)]
  ])('%j becomes %j', (raw, expected) => {
    expect(values('push_main', { tags: [`type=raw,value=${raw}`] })).toEqual([expected])
  })

  it('lower-cases image names and removes duplicates', () => {
    const m = meta('push_main', {
      images: ['GHCR.io/Example/OTLP-Service', 'ghcr.io/example/otlp-service', 'docker.io/example/app']
    })
    expect(m.images).toEqual(['ghcr.io/example/otlp-service', 'docker.io/example/app'])
    expect(m.tags).toEqual(['ghcr.io/example/otlp-service:main', 'docker.io/example/app:main'])
  })

  it('rejects an image name that cannot be one', () => {
    expect(() => meta('push_main', { images: ['ghcr.io/example/otlp service'] })).toThrow(
      /image 1 "ghcr.io\/example\/otlp service" is not an image name/
    )
  })
})

describe('OCI labels', () => {
  it('describes the repository, version, time and revision', () => {
    expect(meta('tag_v1_2_3', { tags: ['type=semver,pattern={{version}}'] }).labels).toEqual({
      'org.opencontainers.image.title': 'otlp-service',
      'org.opencontainers.image.description': 'OTLP relay and its deployment',
      'org.opencontainers.image.url': 'https://github.com/example/otlp-service',
      'org.opencontainers.image.source': 'https://github.com/example/otlp-service',
      'org.opencontainers.image.version': '1.2.3',
      'org.opencontainers.image.created': '2026-11-26T09:30:05.123Z',
      'org.opencontainers.image.revision': 'ad132f5f2ab6b1b8a7d2c4e5f60718293a4b5c6d',
      'org.opencontainers.image.licenses': 'Apache-2.0'
    })
  })

  it('falls back to GITHUB_REPOSITORY when the payload has no repository (schedule)', () => {
    const labels = meta('schedule').labels
    expect(labels['org.opencontainers.image.title']).toBe('otlp-service')
    expect(labels['org.opencontainers.image.url']).toBe('https://github.com/example/otlp-service')
    expect(labels['org.opencontainers.image.licenses']).toBe('')
  })

  it('lets extra labels override and add, with expressions', () => {
    const m = meta('push_main', {
      labels: {
        'org.opencontainers.image.title': 'OTLP relay',
        maintainer: 'sre@example.com',
        built: "{{commit_date 'YYYY-MM-DD'}}"
      }
    })
    expect(m.labels['org.opencontainers.image.title']).toBe('OTLP relay')
    expect(m.labels.maintainer).toBe('sre@example.com')
    // head_commit.timestamp 2026-11-26T08:15:30+01:00 is 07:15 UTC
    expect(m.labels.built).toBe('2026-11-26')
    expect(labelLines(m.labels)).toContain('maintainer=sre@example.com')
  })
})

describe('rule errors name the rule', () => {
  it.each<[string[], RegExp]>([
    [['type=bogus'], /tag rule 1 "type=bogus": type=bogus is not one of schedule, semver/],
    [['type=semver'], /tag rule 1 "type=semver": type=semver needs a pattern/],
    [['type=sha', 'type=ref'], /tag rule 2 "type=ref": type=ref needs event=branch/],
    [['type=ref,event=push'], /event=push is not one of branch, tag, pr/],
    [['type=sha,format=medium'], /format=medium is not one of short, long/],
    [['type=raw,value=a,pattern=b'], /type=raw has no attribute pattern/],
    [['type=match,pattern=v(.*'], /pattern is not a regular expression/],
    [['type=sha,priority=high'], /priority=high is not an integer/],
    [['type=raw,value={{nope}}'], /\{\{nope\}\} is not a known expression/]
  ])('%j', (tags, message) => {
    expect(() => meta('push_main', { tags })).toThrow(RuleError)
    expect(() => meta('push_main', { tags })).toThrow(message)
  })

  it.each<[string[], RegExp]>([
    [
      ['latest=sometimes'],
      /flavor line 1 "latest=sometimes": latest=sometimes is not one of auto, true, false/
    ],
    [['colour=blue'], /colour is not a flavor/],
    [['onlatest=true'], /onlatest applies to a prefix= or suffix=/]
  ])('flavor %j', (flavor, message) => {
    expect(() => parseFlavor(flavor)).toThrow(message)
  })

  it('reads quoted values with commas', () => {
    expect(values('push_main', { tags: ['type=match,"pattern=^(\\d{1,3})",group=1,value=2026'] })).toEqual([
      '202',
      'latest'
    ])
  })
})
