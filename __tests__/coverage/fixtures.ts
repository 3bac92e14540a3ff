import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../harness/runner.js'

export const REPORTS = join(REPO_ROOT, '__tests__/fixtures/coverage/reports')

/** A committed real report (see __tests__/fixtures/coverage/generate.sh), as text and as a source name. */
export function report(path: string): { text: string; source: string } {
  return { text: readFileSync(join(REPORTS, path), 'utf8'), source: `reports/${path}` }
}
