#!/usr/bin/env node
// Bundles each action (src/actions/<name>/index.ts) into dist/<name>/index.js with @vercel/ncc,
// each chunk with its source map and ncc's sourcemap-register.cjs, so that a stack trace on the
// runner names src/*.ts lines (tsconfig.json's sourceMap: true is what lets the maps reach the .ts
// lines; without it they stop at the compiled JavaScript). `node scripts/build.mjs [name...]` builds
// only the named actions.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join, posix } from 'node:path'

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
      'es2022',
      '--source-map'
    ],
    { stdio: 'inherit', cwd: root }
  )
  for (const file of readdirSync(tmp).filter(f => f.endsWith('.js.map'))) relocateSourceMap(join(tmp, file))
  rmSync(out, { recursive: true, force: true })
  renameSync(tmp, out)
  console.log(`built dist/${name}/index.js`)
}

/**
 * ncc names each source relative to the repository with one `../` in front (`.././src/x.ts`), which
 * from dist/<name>/ resolves to dist/src/: rewritten to `../../src/x.ts`. The sources' text is left
 * out (stack traces need only the mappings; it would double the size of dist/).
 */
function relocateSourceMap(file) {
  const map = JSON.parse(readFileSync(file, 'utf8'))
  map.sources = map.sources.map(s =>
    s.startsWith('.././') ? posix.join('../..', s.slice('.././'.length)) : s
  )
  delete map.sourcesContent
  writeFileSync(file, JSON.stringify(map))
}
