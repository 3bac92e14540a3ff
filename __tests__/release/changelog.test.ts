// scripts/changelog.mjs, through its command line as release.sh and the release workflow call it:
// the `## [Unreleased]` entries become a dated version section, the link definitions follow, the
// notes of a version are its section, and every changelog it cannot release is refused.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '../harness/runner.js'

function changelog(text: string, ...args: string[]) {
  const file = join(mkdtempSync(join(tmpdir(), 'changelog-')), 'CHANGELOG.md')
  writeFileSync(file, text)
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/changelog.mjs'), ...args, '--file', file], {
    encoding: 'utf8'
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, file: readFileSync(file, 'utf8') }
}

const HEAD = `# Changelog

Notable changes.
`

const SECOND = `${HEAD}
## [Unreleased]

### Added
- a retry budget

### Fixed

### Changed
- shorter logs

## [0.9.0] - 2026-01-05

### Added
- the first action

[Unreleased]: https://github.com/example/actions/compare/v0.9.0...HEAD
[0.9.0]: https://github.com/example/actions/releases/tag/v0.9.0
`

describe('changelog.mjs release VERSION DATE', () => {
  it('moves the entries under a dated heading, drops empty kinds and updates the compare links', () => {
    const r = changelog(SECOND, 'release', 'v1.0.0', '2026-12-01')
    expect(r.status).toBe(0)
    expect(r.file).toBe(`${HEAD}
## [Unreleased]

## [1.0.0] - 2026-12-01

### Added
- a retry budget

### Changed
- shorter logs

## [0.9.0] - 2026-01-05

### Added
- the first action

[Unreleased]: https://github.com/example/actions/compare/v1.0.0...HEAD
[1.0.0]: https://github.com/example/actions/compare/v0.9.0...v1.0.0
[0.9.0]: https://github.com/example/actions/releases/tag/v0.9.0
`)
  })

  it('links a first release to its tag, and the next one compares with it', () => {
    const first = `${HEAD}\n## [Unreleased]\n\n- everything\n\n[Unreleased]: https://github.com/example/actions/commits/main\n`
    const once = changelog(first, 'release', '1.0.0', '2026-12-01')
    expect(once.file).toBe(`${HEAD}
## [Unreleased]

## [1.0.0] - 2026-12-01

- everything

[Unreleased]: https://github.com/example/actions/compare/v1.0.0...HEAD
[1.0.0]: https://github.com/example/actions/releases/tag/v1.0.0
`)
    const next = once.file.replace('## [Unreleased]\n', '## [Unreleased]\n\n- more\n')
    expect(changelog(next, 'release', '1.1.0', '2026-12-02').file).toContain(
      '[1.1.0]: https://github.com/example/actions/compare/v1.0.0...v1.1.0\n'
    )
  })

  it('leaves a changelog without link definitions without them', () => {
    const r = changelog(`${HEAD}\n## [Unreleased]\n\n- x\n`, 'release', '1.0.0', '2026-12-01')
    expect(r.file).toBe(`${HEAD}\n## [Unreleased]\n\n## [1.0.0] - 2026-12-01\n\n- x\n`)
  })

  it('prints instead of writing with --stdout', () => {
    const r = changelog(SECOND, 'release', '1.0.0', '2026-12-01', '--stdout')
    expect(r.file).toBe(SECOND)
    expect(r.stdout).toContain('## [1.0.0] - 2026-12-01\n')
  })

  it.each([
    [
      'no Unreleased section',
      `${HEAD}\n## [0.9.0] - 2026-01-05\n\n- x\n`,
      '1.0.0',
      /no "## \[Unreleased\]" section/
    ],
    [
      'an Unreleased section without entries',
      `${HEAD}\n## [Unreleased]\n\n### Added\n\n## [0.9.0]\n\n- x\n`,
      '1.0.0',
      /has no entries/
    ],
    [
      'a version it already has',
      SECOND.replace('0.9.0] -', '1.0.0] -'),
      '1.0.0',
      /already has "## \[1\.0\.0\]"/
    ],
    ['a version older than the last release', SECOND, '0.8.1', /0\.8\.1 is not newer than .* 0\.9\.0/],
    ['something that is not a version', SECOND, '1.0', /"1\.0" is not a version/]
  ])('refuses %s and leaves the file as it was', (_what, text, version, reason) => {
    const r = changelog(text, 'release', version, '2026-12-01')
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(reason)
    expect(r.file).toBe(text)
  })

  it('refuses a date that is not YYYY-MM-DD', () => {
    expect(changelog(SECOND, 'release', '1.0.0', '1 Dec 2026').status).toBe(1)
  })
})

describe('changelog.mjs notes VERSION', () => {
  it("prints the version's section without its heading or empty kinds", () => {
    const released = changelog(SECOND, 'release', '1.0.0', '2026-12-01').file
    const r = changelog(released, 'notes', 'v1.0.0')
    expect(r.status).toBe(0)
    expect(r.stdout).toBe('### Added\n- a retry budget\n\n### Changed\n- shorter logs\n')
    expect(changelog(released, 'notes', '0.9.0').stdout).toBe('### Added\n- the first action\n')
  })

  it('refuses a version the changelog has no section for, and an empty one', () => {
    expect(changelog(SECOND, 'notes', '1.0.0')).toMatchObject({ status: 1, stdout: '' })
    expect(changelog(`${HEAD}\n## [1.0.0] - 2026-12-01\n\n### Added\n`, 'notes', '1.0.0').status).toBe(1)
  })
})

describe("this repository's CHANGELOG.md", () => {
  const text = readFileSync(join(REPO_ROOT, 'CHANGELOG.md'), 'utf8')
  const versions = [...text.matchAll(/^## \[(\d+\.\d+\.\d+)\]/gm)].map(m => m[1]!)

  it('has an Unreleased section and the link definition release.sh updates', () => {
    expect(text).toMatch(/^## \[Unreleased\]$/m)
    expect(text).toMatch(
      /^\[Unreleased\]: https:\/\/github\.com\/otlp-deploy-actions\/otlp-deploy-actions\//m
    )
  })

  it('gives release notes for every version it lists', () => {
    const notes = (version: string) =>
      spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/changelog.mjs'), 'notes', version], {
        cwd: REPO_ROOT,
        encoding: 'utf8'
      })
    expect(versions.filter(v => notes(v).status !== 0)).toEqual([])
  })
})
