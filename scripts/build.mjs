#!/usr/bin/env node
// Bundles each action (src/actions/<name>/index.ts) into dist/<name>/index.js with @vercel/ncc.
// `node scripts/build.mjs [name...]` builds only the named actions.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const all = readdirSync(join(root, 'src/actions'), { withFileTypes: true })
  .filter(d => d.isDirectory() && existsSync(join(root, 'src/actions', d.name, 'index.ts')))
  .map(d => d.name)
const wanted = process.argv.slice(2)
for (const name of wanted)
  if (!all.includes(name)) throw new Error(`no action named ${name}; have ${all.join(', ')}`)

for (const name of wanted.length ? wanted : all) {
  const out = join(root, 'dist', name)
  // Built beside the bundle and swapped in only when ncc succeeds: a failed build leaves dist/ as it was.
  const tmp = join(root, 'dist', `.${name}.tmp`)
  rmSync(tmp, { recursive: true, force: true })
  execFileSync(
    join(root, 'node_modules/.bin/ncc'),
    [
      'build',
      join(root, 'src/actions', name, 'index.ts'),
      '-o',
      tmp,
      '--license',
      'licenses.txt',
      '--quiet',
      '--target',
      'es2022'
    ],
    { stdio: 'inherit', cwd: root }
  )
  rmSync(out, { recursive: true, force: true })
  renameSync(tmp, out)
  console.log(`built dist/${name}/index.js`)
}
