#!/usr/bin/env node
// Renders each action.yml into its README usage block (every input with its description and
// default, every output) between <!-- usage:NAME --> and <!-- /usage:NAME --> markers.
// `node scripts/readme-usage.mjs` rewrites README.md; `--check` exits 1 when it is out of date.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

const root = new URL('..', import.meta.url).pathname
export const ACTIONS = [
  {
    name: 'test-coverage',
    file: 'actions/test-coverage/action.yml',
    uses: 'otlp-deploy-actions/otlp-deploy-actions/actions/test-coverage@v1'
  },
  {
    name: 'image-build',
    file: 'actions/image-build/action.yml',
    uses: 'otlp-deploy-actions/otlp-deploy-actions/actions/image-build@v1'
  },
  {
    name: 'rollout',
    file: 'actions/rollout/action.yml',
    uses: 'otlp-deploy-actions/otlp-deploy-actions/actions/rollout@v1'
  },
  { name: 'deploy', file: 'action.yml', uses: 'otlp-deploy-actions/otlp-deploy-actions@v1' }
]

function oneLine(text) {
  return String(text ?? '')
    .replace(/\s+/g, ' ')
    .trim()
}

function wrap(text, width, prefix) {
  const words = oneLine(text).split(' ')
  const lines = []
  let line = ''
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line)
      line = w
    } else line = line ? `${line} ${w}` : w
  }
  if (line) lines.push(line)
  return lines.map(l => `${prefix}${l}`)
}

export function usageBlock(action) {
  const meta = parse(readFileSync(join(root, action.file), 'utf8'))
  const out = ['```yaml', `- uses: ${action.uses}`, '  with:']
  for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
    out.push(...wrap(spec.description, 96, '    # '))
    const dflt = spec.default === undefined ? '' : String(spec.default)
    const note = spec.required ? ' Required.' : dflt === '' ? '' : ` Default: ${JSON.stringify(dflt)}.`
    if (note) out.push(`    #${note}`)
    out.push(`    ${name}: ''`)
    out.push('')
  }
  if (out[out.length - 1] === '') out.pop()
  out.push('```', '', '| output | description |', '| --- | --- |')
  for (const [name, spec] of Object.entries(meta.outputs ?? {})) {
    out.push(`| \`${name}\` | ${oneLine(spec.description).replace(/\|/g, '\\|')} |`)
  }
  return out.join('\n')
}

export function renderReadme(text) {
  let result = text
  for (const action of ACTIONS) {
    const open = `<!-- usage:${action.name} -->`
    const close = `<!-- /usage:${action.name} -->`
    const start = result.indexOf(open)
    const end = result.indexOf(close)
    if (start === -1 || end === -1) throw new Error(`README.md lacks the ${open} ... ${close} markers`)
    result = result.slice(0, start + open.length) + '\n' + usageBlock(action) + '\n' + result.slice(end)
  }
  return result
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = join(root, 'README.md')
  const current = readFileSync(file, 'utf8')
  const next = renderReadme(current)
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('README.md usage blocks are out of date: run node scripts/readme-usage.mjs')
      process.exit(1)
    }
  } else writeFileSync(file, next)
}
