import { isAbsolute, posix, relative, resolve, sep } from 'node:path'
import type { FileCoverage, TestFailure } from './model.js'

/**
 * Report paths as the repository sees them: relative to the workspace, with `/`. Absolute paths
 * outside the workspace stay absolute (a vendored dependency, say); relative ones are taken as
 * relative to the directory the tests ran in.
 */
export function workspacePath(path: string, workspace: string, workdir: string): string {
  const abs = isAbsolute(path) ? path : resolve(workdir, path)
  const rel = relative(workspace, abs)
  if (rel.startsWith('..') || isAbsolute(rel)) return abs.split(sep).join('/')
  return posix.normalize(rel.split(sep).join('/'))
}

export function normaliseFiles(files: readonly FileCoverage[], workspace: string, workdir: string): FileCoverage[] {
  return files.map(f => ({ ...f, path: workspacePath(f.path, workspace, workdir) }))
}

export function normaliseFailures(failures: readonly TestFailure[], workspace: string, workdir: string): TestFailure[] {
  return failures.map(f => (f.file ? { ...f, file: workspacePath(f.file, workspace, workdir) } : f))
}
