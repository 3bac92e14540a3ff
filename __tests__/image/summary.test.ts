import { BuildFailure, type BuildImageResult } from '../../src/image/build.js'
import { buildFailureSummary, formatBytes, imageBuildSummary } from '../../src/image/summary.js'

const result: BuildImageResult = {
  builder: 'buildx',
  builderName: 'otlp-testbed',
  metadata: {
    version: '1.2.3',
    tagValues: ['1.2.3', 'latest'],
    tags: ['r.example/app:1.2.3', 'r.example/app:latest'],
    images: ['r.example/app'],
    labels: { 'org.opencontainers.image.version': '1.2.3' },
    notes: []
  },
  digest: 'sha256:' + 'a'.repeat(64),
  imageRef: 'r.example/app@sha256:' + 'a'.repeat(64),
  platforms: ['linux/amd64', 'linux/arm64'],
  sizes: [
    { platform: 'linux/amd64', digest: 'sha256:' + 'b'.repeat(64), bytes: 1_025_000, layers: 2 },
    { platform: 'linux/arm64', digest: 'sha256:' + 'c'.repeat(64), bytes: 924_000, layers: 2 }
  ],
  cache: { steps: 6, cached: 6 },
  qemu: { needed: ['aarch64'], registered: [] },
  loggedIn: 'r.example',
  buildMs: 2300,
  totalMs: 4100,
  timings: [
    { phase: 'Set up the buildx builder', ms: 310 },
    { phase: 'Build linux/amd64, linux/arm64 with buildx', ms: 2300 }
  ],
  warnings: []
}

describe('job summary', () => {
  it('shows image pinned by digest, tags, platforms with sizes, build time and cache use', () => {
    const text = imageBuildSummary(result)
    expect(text).toContain('## Image build: r.example/app')
    expect(text).toContain(`| Image | \`r.example/app@sha256:${'a'.repeat(64)}\` |`)
    expect(text).toContain('| Platforms | linux/amd64, linux/arm64 |')
    expect(text).toContain('| Build time | 2.3s (step 4.1s) |')
    expect(text).toContain('| Cache | 6 of 6 steps from cache |')
    expect(text).toContain('- `r.example/app:latest`')
    expect(text).toContain('| linux/arm64 | 902.3 KiB | 2 |')
    expect(text).toContain('| Set up the buildx builder | 310ms |')
  })

  it('shows the failing step and its last lines', () => {
    const failure = new BuildFailure(
      'buildah',
      { step: '[linux/arm64 3/3] RUN make', lines: ['cc: error'], error: 'exit status 2' },
      2
    )
    const text = buildFailureSummary(failure, ['r.example/app'])
    expect(text).toContain('stopped at step `[linux/arm64 3/3] RUN make`')
    expect(text).toContain('cc: error\nERROR: exit status 2')
    expect(failure.message).toBe('The image build failed at [linux/arm64 3/3] RUN make: exit status 2')
  })

  it.each([
    [512, '512 B'],
    [2048, '2.00 KiB'],
    [1_025_000, '1001.0 KiB'],
    [5 * 1024 * 1024, '5.00 MiB']
  ])('%d bytes read as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text)
  })
})
