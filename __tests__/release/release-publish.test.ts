// What the release workflow runs after its checks, in throwaway repositories: release-assets.sh
// builds the same tarball of the committed bundles every time and its SHA256SUMS catches a changed
// byte; release-publish.sh, against a stand-in `gh` that records its calls, creates the draft with the
// changelog's notes and both assets, publishes it, and moves the major tag only when the release is
// the newest of its major.
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ThrowawayRepo } from './throwaway-repo.js'

const CHANGELOG = (...versions: string[]) =>
  '# Changelog\n\n## [Unreleased]\n' +
  versions.map(v => `\n## [${v}] - 2026-12-01\n\n### Fixed\n- fix ${v}\n`).join('')

function released(): ThrowawayRepo {
  const r = new ThrowawayRepo({
    'CHANGELOG.md': CHANGELOG('1.0.0'),
    LICENSE: 'Apache-2.0\n',
    'action.yml': 'name: one-step\n',
    'actions/rollout/action.yml': 'name: rollout\n',
    'actions/rollout/README.md': 'not an asset\n',
    'dist/rollout/index.js': '// bundle\n',
    'dist/rollout/index.js.map': '{}\n',
    'src/main.ts': '// not an asset\n'
  })
  r.git('tag', '-a', 'v1.0.0', '-m', 'v1.0.0')
  return r
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

describe('scripts/release-assets.sh', () => {
  it('packs the bundles, the action.yml files and LICENSE, byte for byte the same on every run', () => {
    const r = released()
    for (const out of ['a', 'b']) expect(r.run('release-assets.sh', ['v1.0.0', out]).status).toBe(0)
    const tarball = (out: string) => join(r.dir, out, 'otlp-deploy-actions-v1.0.0.tar.gz')
    expect(sha256(tarball('a'))).toBe(sha256(tarball('b')))
    const files = execFileSync('tar', ['-tzf', tarball('a')], { encoding: 'utf8' })
      .split('\n')
      .filter(f => f && !f.endsWith('/'))
    const packed = [
      'LICENSE',
      'action.yml',
      'actions/rollout/action.yml',
      'dist/rollout/index.js',
      'dist/rollout/index.js.map'
    ]
    expect(files.sort()).toEqual(packed.map(f => `otlp-deploy-actions-v1.0.0/${f}`))
    // SHA256SUMS: the tarball, then each file in it with the digest of the committed file.
    expect(readFileSync(join(r.dir, 'a/SHA256SUMS'), 'utf8')).toBe(
      [
        `${sha256(tarball('a'))}  otlp-deploy-actions-v1.0.0.tar.gz`,
        ...packed.map(f => `${sha256(join(r.dir, f))}  otlp-deploy-actions-v1.0.0/${f}`)
      ].join('\n') + '\n'
    )
  })

  it('verifies the assets against SHA256SUMS and fails on one changed byte of the tarball or a listed file', () => {
    const r = released()
    r.run('release-assets.sh', ['v1.0.0', 'out'])
    expect(r.run('release-assets.sh', ['--verify', 'out']).status).toBe(0)
    const sums = join(r.dir, 'out/SHA256SUMS')
    const listed = readFileSync(sums, 'utf8')
    writeFileSync(
      sums,
      listed.replace(/^[0-9a-f]{64}(?= {2}otlp-deploy-actions-v1\.0\.0\/action\.yml$)/m, '0'.repeat(64))
    )
    expect(r.run('release-assets.sh', ['--verify', 'out']).status).toBe(1)
    writeFileSync(sums, listed)
    appendFileSync(join(r.dir, 'out/otlp-deploy-actions-v1.0.0.tar.gz'), 'x')
    expect(r.run('release-assets.sh', ['--verify', 'out']).status).toBe(1)
  })

  it('refuses a commit without dist/ and a tag that is not vX.Y.Z', () => {
    const r = new ThrowawayRepo({ 'action.yml': 'name: x\n' })
    expect(r.run('release-assets.sh', ['v1.0.0', 'out'])).toMatchObject({ status: 1 })
    expect(released().run('release-assets.sh', ['1.0.0', 'out'])).toMatchObject({ status: 1 })
  })
})

/**
 * A stand-in for gh on PATH: records each call's arguments (one JSON array a line), keeps copies
 * of the notes and the assets it was given, and answers `release view` and `api .../git/ref/...`
 * from FAKE_RELEASE (absent, draft or published) and FAKE_MAJOR (absent or present).
 */
function fakeGh(r: ThrowawayRepo): { env: Record<string, string>; calls: () => string[][]; kept: string } {
  const bin = join(r.dir, '.fake-bin')
  const kept = join(r.dir, '.gh-kept')
  mkdirSync(bin)
  mkdirSync(kept)
  const log = join(r.dir, '.gh-calls')
  writeFileSync(log, '')
  writeFileSync(
    join(bin, 'gh'),
    `#!/usr/bin/env node
const fs = require('node:fs'), path = require('node:path')
const args = process.argv.slice(2)
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + '\\n')
if (args[0] === 'release' && args[1] === 'view') {
  const state = process.env.FAKE_RELEASE || 'absent'
  if (state === 'absent') process.exit(1)
  console.log(state === 'draft' ? 'true' : 'false')
} else if (args[0] === 'release' && args[1] === 'create') {
  for (const a of args) if (a.startsWith('/') && fs.existsSync(a)) fs.copyFileSync(a, path.join(${JSON.stringify(kept)}, path.basename(a)))
} else if (args[0] === 'api' && /\\/git\\/ref\\/tags\\//.test(args[1] || '')) {
  process.exit(process.env.FAKE_MAJOR === 'present' ? 0 : 1)
}
`
  )
  chmodSync(join(bin, 'gh'), 0o755)
  return {
    env: { PATH: `${bin}:${r.env.PATH}`, GH_TOKEN: 'test-token', GITHUB_REPOSITORY: 'example/actions' },
    calls: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(l => JSON.parse(l) as string[]),
    kept
  }
}

/** The calls with the temporary folder's paths reduced to their file names. */
const shape = (calls: string[][]) =>
  calls.map(c => c.map(a => (a.startsWith('/') ? `<${a.split('/').pop()}>` : a)))

describe('scripts/release-publish.sh', () => {
  it('publishes a first release with its notes and assets and creates the major tag', () => {
    const r = released()
    const gh = fakeGh(r)
    const commit = r.git('rev-parse', 'HEAD')
    const run = r.run('release-publish.sh', ['v1.0.0'], gh.env)
    expect(run.status).toBe(0)
    const repo = ['--repo', 'example/actions']
    expect(shape(gh.calls())).toEqual([
      ['release', 'view', 'v1.0.0', ...repo, '--json', 'isDraft', '--jq', '.isDraft'],
      [
        'release',
        'create',
        'v1.0.0',
        ...repo,
        '--verify-tag',
        '--draft',
        '--title',
        'v1.0.0',
        '--notes-file',
        '<notes.md>',
        '<otlp-deploy-actions-v1.0.0.tar.gz>',
        '<SHA256SUMS>'
      ],
      ['release', 'edit', 'v1.0.0', ...repo, '--draft=false', '--latest=true'],
      ['api', 'repos/example/actions/git/ref/tags/v1'],
      [
        'api',
        '--method',
        'POST',
        'repos/example/actions/git/refs',
        '-f',
        'ref=refs/tags/v1',
        '-f',
        `sha=${commit}`
      ]
    ])
    expect(readFileSync(join(gh.kept, 'notes.md'), 'utf8')).toBe('### Fixed\n- fix 1.0.0\n')
    // The uploaded tarball is the one release-assets.sh builds, and its SHA256SUMS names it.
    r.run('release-assets.sh', ['v1.0.0', 'expected'])
    expect(sha256(join(gh.kept, 'otlp-deploy-actions-v1.0.0.tar.gz'))).toBe(
      sha256(join(r.dir, 'expected/otlp-deploy-actions-v1.0.0.tar.gz'))
    )
    expect(readFileSync(join(gh.kept, 'SHA256SUMS'), 'utf8')).toBe(
      readFileSync(join(r.dir, 'expected/SHA256SUMS'), 'utf8')
    )
  })

  it('moves an existing major tag with force', () => {
    const r = released()
    const gh = fakeGh(r)
    expect(r.run('release-publish.sh', ['v1.0.0'], { ...gh.env, FAKE_MAJOR: 'present' }).status).toBe(0)
    expect(gh.calls().at(-1)).toEqual([
      'api',
      '--method',
      'PATCH',
      'repos/example/actions/git/refs/tags/v1',
      '-f',
      `sha=${r.git('rev-parse', 'HEAD')}`,
      '-F',
      'force=true'
    ])
  })

  it('leaves the major tag and "latest" alone for a fix of an older minor', () => {
    const r = released()
    r.write({ 'CHANGELOG.md': CHANGELOG('1.1.0', '1.0.0') })
    r.commit('release v1.1.0')
    r.git('tag', '-a', 'v1.1.0', '-m', 'v1.1.0')
    r.git('checkout', '-q', 'v1.0.0')
    r.write({ 'CHANGELOG.md': CHANGELOG('1.0.1', '1.0.0') })
    r.commit('release v1.0.1')
    r.git('tag', '-a', 'v1.0.1', '-m', 'v1.0.1')
    const gh = fakeGh(r)
    expect(r.run('release-publish.sh', ['v1.0.1'], gh.env).status).toBe(0)
    const calls = gh.calls()
    expect(calls.find(c => c[1] === 'edit')).toContain('--latest=false')
    expect(calls.filter(c => c[0] === 'api')).toEqual([])
  })

  it('replaces a draft an earlier run left, and never touches a published release', () => {
    const draft = released()
    const ghDraft = fakeGh(draft)
    expect(
      draft.run('release-publish.sh', ['v1.0.0'], { ...ghDraft.env, FAKE_RELEASE: 'draft' }).status
    ).toBe(0)
    expect(ghDraft.calls()[1]).toEqual(['release', 'delete', 'v1.0.0', '--repo', 'example/actions', '--yes'])

    const published = released()
    const ghPublished = fakeGh(published)
    const run = published.run('release-publish.sh', ['v1.0.0'], {
      ...ghPublished.env,
      FAKE_RELEASE: 'published'
    })
    expect(run.status).toBe(1)
    expect(ghPublished.calls().map(c => c[1])).toEqual(['view'])
  })

  it('publishes nothing when the tarball differs from the one the check job built', () => {
    const r = released()
    const gh = fakeGh(r)
    const run = r.run('release-publish.sh', ['v1.0.0'], { ...gh.env, EXPECTED_SHA256: '0'.repeat(64) })
    expect(run.status).toBe(1)
    expect(run.stderr).toMatch(/not reproducible/)
    expect(gh.calls()).toEqual([])
  })

  it("refuses when HEAD is not the tag's commit", () => {
    const r = released()
    r.write({ 'later.txt': 'x\n' })
    r.commit('after the tag')
    const gh = fakeGh(r)
    expect(r.run('release-publish.sh', ['v1.0.0'], gh.env).status).toBe(1)
    expect(gh.calls()).toEqual([])
  })
})
