#!/usr/bin/env node
// Renders job summaries (GitHub-flavoured markdown) to PNG as GitHub shows them: marked (GFM) with
// GitHub's alerts (marked-alert), GitHub's own stylesheet (github-markdown-css), Mermaid diagrams
// drawn by Mermaid, in Debian's Chromium driven by puppeteer-core. Each FILE.md becomes FILE.png.
//
// Usage: node scripts/render-summary.mjs docs/summaries/*.md   (installs chromium with apt when missing)
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { Marked } from 'marked'
import markedAlert from 'marked-alert'
import puppeteer from 'puppeteer-core'

const root = resolve(new URL('..', import.meta.url).pathname)
const require = createRequire(import.meta.url)
const files = process.argv.slice(2)
if (files.length === 0) {
  console.error('usage: node scripts/render-summary.mjs FILE.md...')
  process.exit(2)
}
const CHROMIUM = '/usr/bin/chromium'
// apt_install installs only what is missing.
execFileSync(
  'bash',
  ['-c', '. scripts/lib.sh && apt_install chromium fonts-dejavu-core fonts-noto-color-emoji'],
  {
    cwd: root,
    stdio: 'inherit'
  }
)

const css = readFileSync(require.resolve('github-markdown-css/github-markdown-light.css'), 'utf8')
const mermaidJs = readFileSync(
  join(require.resolve('mermaid/package.json'), '..', 'dist/mermaid.min.js'),
  'utf8'
)
const marked = new Marked({ gfm: true }, markedAlert())
// GitHub draws ```mermaid blocks as diagrams; marked leaves them as code.
marked.use({
  renderer: {
    code({ text, lang }) {
      if (lang === 'mermaid') return `<pre class="mermaid">${text.replace(/</g, '&lt;')}</pre>`
      return false
    }
  }
})

const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu'],
  headless: true
})
try {
  for (const file of files) {
    const body = await marked.parse(readFileSync(file, 'utf8'))
    const html = `<!doctype html><html><head><meta charset="utf-8"><style>${css}
body { margin: 0; background: #fff; }
.markdown-body { box-sizing: border-box; width: 980px; padding: 24px 32px; font-family: -apple-system, "Segoe UI", "DejaVu Sans", sans-serif, "Noto Color Emoji"; }
.markdown-alert { padding: 0 1em; border-left: .25em solid #d0d7de; margin-bottom: 16px; }
.markdown-alert-caution { border-left-color: #cf222e; } .markdown-alert-warning { border-left-color: #9a6700; }
.markdown-alert-title { font-weight: 600; }
</style></head><body><article class="markdown-body">${body}</article>
<script>${mermaidJs}</script>
<script>mermaid.initialize({ startOnLoad: false, theme: 'default' }); mermaid.run().then(() => { document.body.dataset.done = '1' }, e => { document.body.dataset.done = 'error: ' + e })</script>
</body></html>`
    const page = await browser.newPage()
    await page.setViewport({ width: 980, height: 800, deviceScaleFactor: 1 })
    const tmp = join(tmpdir(), `${basename(file, '.md')}-${process.pid}.html`)
    writeFileSync(tmp, html)
    await page.goto(`file://${tmp}`)
    await page.waitForFunction('document.body.dataset.done', { timeout: 30_000 })
    const state = await page.evaluate('document.body.dataset.done')
    if (state !== '1') throw new Error(`${file}: mermaid failed: ${state}`)
    const out = file.replace(/\.md$/, '.png')
    const element = await page.$('article')
    await element.screenshot({ path: out })
    await page.close()
    console.log(`rendered ${out}`)
  }
} finally {
  await browser.close()
}
