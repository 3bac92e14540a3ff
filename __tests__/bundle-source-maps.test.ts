// Every bundle ships a source map that it registers at start-up, so a stack trace printed on the
// runner names the src/*.ts line. Checked twice: statically (each chunk's map resolves a known
// function to the line that defines it, with no path of the machine that built it), and by running a
// bundle through the harness into an unexpected error whose stack must land on the src/ line that threw.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { SourceMap, type SourceMapPayload } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { REPO_ROOT, runAction } from './harness/runner.js'

const DIST = join(REPO_ROOT, 'dist')
const bundles = readdirSync(DIST, { withFileTypes: true })
  .filter(d => d.isDirectory() && !d.name.startsWith('.'))
  .map(d => d.name)

/** A map as the build writes it: without the sources' text. */
type Payload = Omit<SourceMapPayload, 'sourcesContent'> & { sourcesContent?: string[] }

function mapOf(bundle: string, chunk: string): Payload {
  return JSON.parse(readFileSync(join(DIST, bundle, `${chunk}.map`), 'utf8')) as Payload
}

/** The 1-based line of `src/` file `file` where `needle` first appears. */
function lineOf(file: string, needle: string): number {
  const index = readFileSync(join(REPO_ROOT, file), 'utf8')
    .split('\n')
    .findIndex(l => l.includes(needle))
  if (index < 0) throw new Error(`${file} has no line with ${needle}`)
  return index + 1
}

describe.each(bundles)('dist/%s', bundle => {
  const chunks = readdirSync(join(DIST, bundle)).filter(f => f.endsWith('.js'))

  it('registers the source maps before any of its own code runs', () => {
    expect(existsSync(join(DIST, bundle, 'sourcemap-register.cjs'))).toBe(true)
    expect(readFileSync(join(DIST, bundle, 'index.js'), 'utf8')).toMatch(
      /^import '\.\/sourcemap-register\.cjs';/
    )
  })

  it.each(chunks)('%s names its map, which holds no text and no path of the build machine', chunk => {
    expect(readFileSync(join(DIST, bundle, chunk), 'utf8').trimEnd()).toMatch(
      new RegExp(`//# sourceMappingURL=${chunk.replace(/\./g, '\\.')}\\.map$`)
    )
    const map = mapOf(bundle, chunk)
    expect(map.version).toBe(3)
    expect(map.sourcesContent).toBeUndefined()
    // Everything but the mappings (base64 VLQ, where any four letters may occur by chance).
    const named = JSON.stringify({ ...map, mappings: undefined })
    expect(named).not.toContain(REPO_ROOT)
    expect(named).not.toContain(tmpdir())
    expect(map.sources.filter(s => s.startsWith('/'))).toEqual([])
    // What the map names in this repository is there, relative to the map's folder.
    const local = map.sources.filter(s => /^\.\.\/\.\.\/(src|node_modules)\//.test(s))
    expect(local.length).toBeGreaterThan(0)
    expect(local.filter(s => !existsSync(resolve(DIST, bundle, s)))).toEqual([])
  })

  it('maps the shared runAction to the line of src/runtime/action.ts that defines it', () => {
    const lines = readFileSync(join(DIST, bundle, 'index.js'), 'utf8').split('\n')
    const generated = lines.flatMap((l, i) => (/^async function runAction\(/.test(l) ? [i] : []))
    expect(generated).toHaveLength(1)
    const entry = new SourceMap({ ...mapOf(bundle, 'index.js'), sourcesContent: [] }).findEntry(
      generated[0]!,
      0
    )
    expect(entry).toMatchObject({
      originalSource: '../../src/runtime/action.ts',
      originalLine: lineOf('src/runtime/action.ts', 'export async function runAction(') - 1
    })
  })
})

describe('an unexpected error inside a bundle, run as the runner runs it', () => {
  it('has a stack whose frames name the src/*.ts lines, not dist/', async () => {
    // A comment file that is a folder: readFileSync throws EISDIR, a plain Error whose stack the
    // action prints as a debug line.
    const workspace = mkdtempSync(join(tmpdir(), 'source-maps-'))
    const run = await runAction({
      action: 'test-coverage',
      cwd: workspace,
      inputs: { mode: 'comment', 'comment-file': workspace, 'github-token': 'not-a-token' },
      timeoutMs: 60_000
    })
    expect(run.exitCode).toBe(1)
    const stack = run.annotations.find(a => a.level === 'debug' && a.message.startsWith('Error: EISDIR'))
    expect(stack?.message).toBeDefined()
    const frame = (fn: string) =>
      new RegExp(`^\\s+at ${fn} \\((.+):(\\d+):\\d+\\)$`, 'm').exec(stack!.message)?.slice(1, 3)
    const src = (file: string) => pathToFileURL(join(REPO_ROOT, file)).href
    expect(frame('postCommentFile')).toEqual([
      src('src/coverage/publish.ts'),
      String(lineOf('src/coverage/publish.ts', 'readFileSync(resolve(ctx.workspace, config.commentFile)'))
    ])
    expect(frame('runAction')).toEqual([
      src('src/runtime/action.ts'),
      String(lineOf('src/runtime/action.ts', 'post() : main()'))
    ])
  })
})
