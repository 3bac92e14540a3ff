// scripts/release.sh in a throwaway repository: a release rewrites the changelog, commits it and
// tags that commit (and pushes nothing); a dry run changes nothing; a dirty tree, stale bundles, a
// changelog with nothing to release, another branch and an existing tag are refused, each leaving
// the repository as it was. The build is a stand-in (RELEASE_BUILD_COMMAND) that turns src/ into
// dist/ as `npm run build` does, so a stale dist/ is a real one.
import { ThrowawayRepo } from './throwaway-repo.js'

const CHANGELOG = `# Changelog

## [Unreleased]

### Added
- the rollout action

[Unreleased]: https://github.com/example/actions/commits/main
`

const RELEASED = `# Changelog

## [Unreleased]

## [1.0.0] - 2026-12-01

### Added
- the rollout action

[Unreleased]: https://github.com/example/actions/compare/v1.0.0...HEAD
[1.0.0]: https://github.com/example/actions/releases/tag/v1.0.0
`

const ENV = {
  RELEASE_BUILD_COMMAND: 'mkdir -p dist && { echo "// built"; cat src/main.txt; } > dist/index.js',
  RELEASE_DATE: '2026-12-01'
}

function repo(files: Record<string, string> = {}): ThrowawayRepo {
  return new ThrowawayRepo({
    'CHANGELOG.md': CHANGELOG,
    'src/main.txt': 'roll out\n',
    'dist/index.js': '// built\nroll out\n',
    ...files
  })
}

/** What a refused run must leave as it found it. */
function state(r: ThrowawayRepo) {
  return {
    head: r.git('rev-parse', 'HEAD'),
    tags: r.git('tag', '--list'),
    status: r.git('status', '--porcelain')
  }
}

describe('scripts/release.sh VERSION', () => {
  it('moves Unreleased into the dated version, commits "release vX.Y.Z", tags it, and only prints the push', () => {
    const r = repo()
    const before = r.git('rev-parse', 'HEAD')
    const run = r.run('release.sh', ['1.0.0'], ENV)
    expect(run.status).toBe(0)
    expect(r.git('show', 'HEAD:CHANGELOG.md') + '\n').toBe(RELEASED)
    expect(r.git('log', '--format=%s', `${before}..HEAD`)).toBe('release v1.0.0')
    expect(r.git('show', '--name-only', '--format=', 'HEAD')).toBe('CHANGELOG.md')
    expect(r.git('cat-file', '-t', 'v1.0.0')).toBe('tag')
    expect(r.git('rev-parse', 'v1.0.0^{commit}')).toBe(r.git('rev-parse', 'HEAD'))
    expect(r.git('tag', '--list')).toBe('v1.0.0')
    expect(r.git('status', '--porcelain')).toBe('')
    expect(run.stdout.trim()).toBe('push both to publish the release: git push --atomic origin main v1.0.0')
  })

  it('takes v1.0.0 as well as 1.0.0', () => {
    const r = repo()
    expect(r.run('release.sh', ['v1.0.0'], ENV).status).toBe(0)
    expect(r.git('tag', '--list')).toBe('v1.0.0')
  })

  it('changes nothing with --dry-run, and shows the changelog it would write', () => {
    const r = repo()
    const before = state(r)
    const run = r.run('release.sh', ['--dry-run', '1.0.0'], ENV)
    expect(run.status).toBe(0)
    expect(state(r)).toEqual(before)
    expect(run.stdout).toContain('+## [1.0.0] - 2026-12-01\n')
  })

  it.each<[string, (r: ThrowawayRepo) => void, RegExp]>([
    ['a modified file', r => r.write({ 'src/main.txt': 'changed\n' }), /uncommitted or untracked/],
    ['an untracked file', r => r.write({ 'notes.txt': 'x\n' }), /uncommitted or untracked/],
    [
      'bundles older than their sources',
      r => {
        r.write({ 'src/main.txt': 'roll out faster\n' })
        r.commit('source changed, dist/ not rebuilt')
      },
      /a fresh build changes the files above/
    ],
    [
      'an Unreleased section without entries',
      r => {
        r.write({ 'CHANGELOG.md': '# Changelog\n\n## [Unreleased]\n\n### Added\n' })
        r.commit('nothing to release')
      },
      /has no entries/
    ],
    [
      'a changelog without an Unreleased section',
      r => {
        r.write({ 'CHANGELOG.md': '# Changelog\n\n- the rollout action\n' })
        r.commit('no sections')
      },
      /no "## \[Unreleased\]" section/
    ],
    ['another branch than main', r => r.git('checkout', '-q', '-b', 'feature'), /on branch feature/],
    ['a tag that exists', r => r.git('tag', 'v1.0.0'), /tag v1\.0\.0 already exists/]
  ])('refuses %s and leaves the repository as it was', (_what, arrange, reason) => {
    const r = repo()
    arrange(r)
    const before = state(r)
    const run = r.run('release.sh', ['1.0.0'], ENV)
    expect(run.status).toBe(1)
    expect(run.stderr).toMatch(reason)
    expect(state(r)).toEqual(before)
  })

  it('refuses a version that is not MAJOR.MINOR.PATCH', () => {
    const r = repo()
    expect(r.run('release.sh', ['1.0'], ENV).status).toBe(1)
    expect(r.run('release.sh', [], ENV).status).toBe(1)
    expect(r.git('tag', '--list')).toBe('')
  })
})
