import { dependencyCache, lockfileHash, reportCache, restoreEntry, saveEntry, toolCache } from '../../src/coverage/cache.js'
import { NEXTEST_VERSION, TARPAULIN_VERSION } from '../../src/coverage/plan.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../harness/runner.js'

describe('cache entries', () => {
  const env = { ...process.env }
  beforeEach(() => {
    process.env.RUNNER_OS = 'Linux'
    process.env.RUNNER_ARCH = 'X64'
    delete process.env.CARGO_HOME
  })
  afterEach(() => {
    process.env = { ...env }
  })

  it('keys the cargo cache by the lockfile hash and restores older entries by prefix', () => {
    const e = dependencyCache('cargo', '/ws/crate', lockfileHash('[[package]]\nname = "a"\n'), '/home/u')
    expect(e.key).toMatch(/^otlp-test-coverage-cargo-Linux-X64-[0-9a-f]{20}$/)
    expect(e.restoreKeys).toEqual(['otlp-test-coverage-cargo-Linux-X64-'])
    expect(e.paths).toEqual(['/home/u/.cargo/registry/index', '/home/u/.cargo/registry/cache', '/home/u/.cargo/git/db', '/ws/crate/target'])
    expect(dependencyCache('cargo', '/ws/crate', lockfileHash('other'), '/home/u').key).not.toBe(e.key)
  })

  it('caches the npm download cache, not node_modules', () => {
    expect(dependencyCache('npm', '/ws/app', 'h', '/home/u').paths).toEqual(['/home/u/.npm'])
  })

  it('keys stored reports by job and commit, and the tool by its version', () => {
    expect(reportCache('/t/r', 'test', 'abc').key).toBe('otlp-test-coverage-report-test-abc')
    expect(toolCache('/c/t').key).toBe(`cargo-tarpaulin-${TARPAULIN_VERSION}-Linux-X64`)
  })

  it('pins the same tool versions as the pre-install script', () => {
    const script = readFileSync(join(REPO_ROOT, '__tests__/fixtures/coverage/install-cargo-tools.sh'), 'utf8')
    expect(script).toContain(`TARPAULIN_VERSION=${TARPAULIN_VERSION}\n`)
    expect(script).toContain(`NEXTEST_VERSION=${NEXTEST_VERSION}\n`)
  })
})

describe('cache adapter without the Actions cache service', () => {
  it('restores nothing and saves nothing, without throwing', async () => {
    delete process.env.ACTIONS_CACHE_URL
    delete process.env.ACTIONS_RESULTS_URL
    const entry = reportCache('/nonexistent', 'job', 'sha')
    await expect(restoreEntry(entry)).resolves.toBeUndefined()
    await expect(saveEntry(entry)).resolves.toBeUndefined()
  })
})
