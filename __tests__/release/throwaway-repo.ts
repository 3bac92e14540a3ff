/**
 * A throwaway git repository for the release scripts' tests: a copy of the scripts under test and
 * whatever files a test gives, committed on main by a test identity. Nothing here touches the
 * repository the tests run in.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { REPO_ROOT } from '../harness/runner.js'

const SCRIPTS = ['lib.sh', 'changelog.mjs', 'release.sh', 'release-assets.sh', 'release-publish.sh']

export interface Result {
  status: number | null
  stdout: string
  stderr: string
}

export class ThrowawayRepo {
  readonly dir = mkdtempSync(join(tmpdir(), 'release-repo-'))
  /** A fixed identity and no global or system configuration (signing, hooks, templates). */
  readonly env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: this.dir,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Release Test',
    GIT_AUTHOR_EMAIL: 'release-test@example.invalid',
    GIT_COMMITTER_NAME: 'Release Test',
    GIT_COMMITTER_EMAIL: 'release-test@example.invalid',
    GIT_AUTHOR_DATE: '2026-11-30T12:00:00Z',
    GIT_COMMITTER_DATE: '2026-11-30T12:00:00Z'
  }

  constructor(files: Record<string, string>) {
    this.git('init', '-q', '-b', 'main')
    for (const script of SCRIPTS) {
      mkdirSync(join(this.dir, 'scripts'), { recursive: true })
      copyFileSync(join(REPO_ROOT, 'scripts', script), join(this.dir, 'scripts', script))
    }
    this.write(files)
    this.commit('initial')
  }

  write(files: Record<string, string>): void {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(this.dir, path)), { recursive: true })
      writeFileSync(join(this.dir, path), text)
    }
  }

  commit(message: string): void {
    this.git('add', '-A')
    this.git('commit', '-q', '-m', message)
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: this.env, encoding: 'utf8' }).trim()
  }

  /** Runs `bash scripts/<script> args...` in the repository with the extra environment. */
  run(script: string, args: string[], env: Record<string, string> = {}): Result {
    const r = spawnSync('bash', [join(this.dir, 'scripts', script), ...args], {
      cwd: this.dir,
      env: { ...this.env, ...env },
      encoding: 'utf8',
      timeout: 60_000
    })
    return { status: r.status, stdout: r.stdout, stderr: r.stderr }
  }
}
