import {
  hostPlatform,
  isValidTag,
  normaliseRegistry,
  parseImageName,
  parsePlatform,
  registryHost,
  sanitizeTag
} from '../../src/image/reference.js'

describe('image names', () => {
  it.each([
    ['ghcr.io/example/app', { name: 'ghcr.io/example/app', registry: 'ghcr.io', repository: 'example/app' }],
    [
      '127.0.0.1:25500/otlp/relay',
      { name: '127.0.0.1:25500/otlp/relay', registry: '127.0.0.1:25500', repository: 'otlp/relay' }
    ],
    ['localhost/app', { name: 'localhost/app', registry: 'localhost', repository: 'app' }],
    ['example/app', { name: 'example/app', registry: 'registry-1.docker.io', repository: 'example/app' }],
    ['busybox', { name: 'busybox', registry: 'registry-1.docker.io', repository: 'library/busybox' }],
    [
      'docker.io/Example/App',
      { name: 'docker.io/example/app', registry: 'registry-1.docker.io', repository: 'example/app' }
    ]
  ])('%s', (text, expected) => {
    expect(parseImageName(text)).toEqual(expected)
  })

  it.each(['ghcr.io/example/my app', 'ghcr.io/example/app:tag', 'ghcr.io//app', '-app', 'app_'])(
    'rejects %j',
    text => {
      expect(parseImageName(text)).toBeUndefined()
    }
  )

  it('logs in to Docker Hub as docker.io', () => {
    expect(registryHost(parseImageName('example/app')!)).toBe('docker.io')
    expect(normaliseRegistry('https://index.docker.io/v1/')).toBe('docker.io')
    expect(normaliseRegistry('GHCR.io')).toBe('ghcr.io')
  })
})

describe('tags', () => {
  it('sanitises into a valid tag', () => {
    for (const raw of ['feature/x', '..a', 'ü', 'v1.2.3+build.7', 'x'.repeat(300)]) {
      const tag = sanitizeTag(raw)
      if (tag) expect(isValidTag(tag)).toBe(true)
    }
  })
})

describe('platforms', () => {
  it('maps the runner architecture', () => {
    expect(hostPlatform('x64')).toEqual({ os: 'linux', architecture: 'amd64' })
    expect(hostPlatform('arm64')).toEqual({ os: 'linux', architecture: 'arm64' })
  })

  it('reads variants', () => {
    expect(parsePlatform('linux/arm64/v8')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' })
    expect(parsePlatform('linux/arm/x7')).toMatch(/unknown variant "x7"/)
  })
})
