/**
 * The lines a pull request or a push adds, from git (the effect behind patch coverage). The range
 * is the merge base of the base commit and the tested HEAD, to HEAD: on a pull request's merge
 * commit that is the base itself, on a checkout of the PR's head the fork point, on a push the
 * previous tip. A shallow checkout (actions/checkout's default fetch-depth: 1) lacks the base and
 * the history between: it is fetched, the base alone first, then deeper, and when that is not
 * enough the reason says what is missing and how to get it.
 */
import { realpathSync } from 'node:fs'
import { posix, relative, resolve, sep } from 'node:path'
import { run, type RunResult } from '../runtime/index.js'
import { parseAddedLines } from './diff.js'
import type { ChangedFile } from './patch.js'

export type ChangedLines =
  | { ok: true; base: string; mergeBase: string; head: string; files: ChangedFile[]; fetched: string[] }
  | { ok: false; reason: string; fetched: string[] }

/** How many more commits each deepening fetch asks for (1 finds a merge commit's parent). */
export const DEEPEN_STEPS = [1, 10, 100, 1000] as const

export interface GitOptions {
  /** The directory the tests ran against (GITHUB_WORKSPACE). */
  workspace: string
  base: string
  /** The remote to fetch from when the checkout is shallow. */
  remote?: string
  log?: (line: string) => void
}

export async function changedLines(options: GitOptions): Promise<ChangedLines> {
  const { workspace, base } = options
  const remote = options.remote ?? 'origin'
  const log = options.log ?? (() => undefined)
  const fetched: string[] = []
  const git = gitIn(workspace)
  const fail = (reason: string): ChangedLines => ({ ok: false, reason, fetched })

  const top = await git('rev-parse', '--show-toplevel')
  if (top.exitCode !== 0) return fail(`${workspace} is not a git checkout (${firstLine(top.stderr)})`)
  const root = top.stdout.trim()
  const head = (await git('rev-parse', 'HEAD')).stdout.trim()
  if (!head) return fail('the checkout has no HEAD commit')

  const fetch = async (args: string[], what: string): Promise<boolean> => {
    log(`git fetch ${args.join(' ')} (${what})`)
    const r = await git('fetch', '--no-tags', '--no-recurse-submodules', '--quiet', ...args)
    if (r.exitCode === 0) fetched.push(what)
    else log(`  failed: ${firstLine(r.stderr)}`)
    return r.exitCode === 0
  }
  const hasCommit = async (rev: string) => (await git('cat-file', '-e', `${rev}^{commit}`)).exitCode === 0

  if (!(await hasCommit(base))) {
    const ok = await fetch(['--depth=1', remote, base], `base ${short(base)}`)
    if (!ok || !(await hasCommit(base)))
      return fail(
        `the base commit ${short(base)} is not in the checkout and could not be fetched from ${remote}; check out with fetch-depth: 0, or fetch it before this step`
      )
  }

  let mergeBase = await mergeBaseOf(git, base, head)
  let deepened = 0
  for (const step of DEEPEN_STEPS) {
    if (mergeBase) break
    if ((await git('rev-parse', '--is-shallow-repository')).stdout.trim() !== 'true') break
    if (!(await fetch([`--deepen=${step}`, remote, base, head], `${step} more commits of history`))) break
    deepened += step
    mergeBase = await mergeBaseOf(git, base, head)
  }
  if (!mergeBase)
    return fail(
      deepened > 0
        ? `no common ancestor of the base ${short(base)} and HEAD ${short(head)} within ${deepened} more commits of fetched history; check out with fetch-depth: 0`
        : `the base ${short(base)} and HEAD ${short(head)} have no common ancestor`
    )

  const diff = await git('diff', '--no-color', '--no-ext-diff', '--unified=0', '-M', '--diff-filter=d', mergeBase, head)
  if (diff.exitCode !== 0) return fail(`git diff ${short(mergeBase)} ${short(head)} failed: ${firstLine(diff.stderr)}`)
  const files: ChangedFile[] = []
  for (const [repoPath, added] of parseAddedLines(diff.stdout)) {
    files.push({ path: workspacePathOf(repoPath, root, workspace), repoPath, added })
  }
  return { ok: true, base, mergeBase, head, files, fetched }
}

/**
 * The commit whose blob links show these lines: the pull request's head where the file is the same
 * there as in the tested tree (a merge commit is not kept by GitHub), else the tested commit.
 */
export async function linkCommits(workspace: string, tested: string, prHead: string | undefined, paths: readonly string[]): Promise<Map<string, string>> {
  const out = new Map(paths.map(p => [p, tested]))
  if (!prHead || prHead === tested || paths.length === 0) return out
  const r = await gitIn(workspace)('diff', '--name-only', '-z', prHead, tested, '--', ...paths.map(p => `:(top)${p}`))
  if (r.exitCode !== 0) return out
  const differ = new Set(r.stdout.split('\0').filter(Boolean))
  for (const p of paths) if (!differ.has(p)) out.set(p, prHead)
  return out
}

/** git in the checkout, quiet, paths unquoted, a failure returned rather than thrown. */
function gitIn(cwd: string): (...args: string[]) => Promise<RunResult> {
  return (...args) => run('git', ['-c', 'core.quotePath=false', ...args], { cwd, silent: true, allowFailure: true })
}

async function mergeBaseOf(
  git: (...args: string[]) => Promise<RunResult>,
  a: string,
  b: string
): Promise<string | undefined> {
  const r = await git('merge-base', a, b)
  return r.exitCode === 0 ? r.stdout.trim() || undefined : undefined
}

/** A repository path as the workspace (where the reports' paths are relative to) names it. */
function workspacePathOf(repoPath: string, root: string, workspace: string): string {
  // git names the root by its real path; the workspace may be reached through a symbolic link.
  const rel = relative(realpathSync(resolve(workspace)), resolve(root, repoPath))
  return posix.normalize(rel.split(sep).join('/'))
}

const short = (sha: string) => sha.slice(0, 7)
const firstLine = (text: string) => text.trim().split('\n')[0] ?? ''
