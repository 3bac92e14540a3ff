#!/usr/bin/env node
// CHANGELOG.md (Keep a Changelog) for releases, with no dependencies (the release workflow runs it
// before `npm ci`):
//   node scripts/changelog.mjs notes VERSION [--file F]            print the `## [VERSION]` section's text
//   node scripts/changelog.mjs release VERSION DATE [--file F] [--stdout]
//       move `## [Unreleased]`'s entries into `## [VERSION] - DATE` under a fresh empty Unreleased,
//       and update the link definitions at the bottom (`[Unreleased]: .../compare/vX...HEAD`) when
//       there are any; writes the file in place, or prints the result with --stdout.
// VERSION is MAJOR.MINOR.PATCH, with or without a leading v. Exits 1 with one line on stderr when
// the changelog cannot give what was asked (no such section, nothing unreleased, version not newer).
import { readFileSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)$/
const HEADING = /^## \[([^\]]+)\](.*)$/
const LINK = /^\[([^\]]+)\]:\s*(\S+)\s*$/

class ChangelogError extends Error {}

/** `1.2.3` from `1.2.3` or `v1.2.3`; throws on anything else. */
export function plainVersion(version) {
  const m = VERSION.exec(version ?? '')
  if (!m) throw new ChangelogError(`"${version ?? ''}" is not a version; use MAJOR.MINOR.PATCH, e.g. 1.2.3`)
  return `${m[1]}.${m[2]}.${m[3]}`
}

function newer(a, b) {
  const [pa, pb] = [a, b].map(v => VERSION.exec(v).slice(1).map(Number))
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] > pb[i]
  return false
}

/**
 * The changelog as parts: the text before the first `## [` heading, each section (its name, the
 * rest of its heading line, its body lines) and the link definitions that end the file.
 */
export function parseChangelog(text) {
  const lines = text.replace(/\n+$/, '').split('\n')
  let end = lines.length
  while (end > 0 && (LINK.test(lines[end - 1]) || lines[end - 1].trim() === '')) end--
  const links = lines
    .slice(end)
    .filter(l => LINK.test(l))
    .map(l => {
      const [, label, url] = LINK.exec(l)
      return { label, url }
    })
  const head = []
  const sections = []
  for (const line of lines.slice(0, end)) {
    const h = HEADING.exec(line)
    if (h) sections.push({ name: h[1], rest: h[2], body: [] })
    else if (sections.length) sections.at(-1).body.push(line)
    else head.push(line)
  }
  return { head, sections, links }
}

function render({ head, sections, links }) {
  const out = [...head]
  for (const s of sections) {
    while (out.length && out.at(-1).trim() === '') out.pop()
    out.push('', `## [${s.name}]${s.rest}`, ...trimBlank(s.body))
  }
  while (out.length && out.at(-1).trim() === '') out.pop()
  if (links.length) out.push('', ...links.map(l => `[${l.label}]: ${l.url}`))
  return out.join('\n') + '\n'
}

function trimBlank(lines) {
  let [start, end] = [0, lines.length]
  while (start < end && lines[start].trim() === '') start++
  while (end > start && lines[end - 1].trim() === '') end--
  return start === end ? [] : ['', ...lines.slice(start, end)]
}

/** A section's entries without the `### Kind` headings that have none under them. */
function withoutEmptyKinds(body) {
  const out = []
  for (let i = 0; i < body.length; i++) {
    if (/^### /.test(body[i])) {
      let j = i + 1
      while (j < body.length && !/^#{1,3} /.test(body[j]) && body[j].trim() === '') j++
      if (j >= body.length || /^#{1,3} /.test(body[j])) {
        i = j - 1
        continue
      }
    }
    out.push(body[i])
  }
  return out
}

const hasEntries = body => withoutEmptyKinds(body).some(l => l.trim() !== '' && !/^### /.test(l))

/** The text of the `## [VERSION]` section, for the release notes. */
export function releaseNotes(text, version) {
  const v = plainVersion(version)
  const section = parseChangelog(text).sections.find(s => s.name === v)
  if (!section) throw new ChangelogError(`CHANGELOG.md has no "## [${v}]" section`)
  if (!hasEntries(section.body)) throw new ChangelogError(`CHANGELOG.md's "## [${v}]" section is empty`)
  return trimBlank(withoutEmptyKinds(section.body)).slice(1).join('\n') + '\n'
}

/** `https://github.com/owner/repo` from any URL of that repository. */
const repositoryOf = url => /^(https?:\/\/[^/]+\/[^/]+\/[^/]+)\//.exec(url)?.[1]

/** The changelog after releasing VERSION on DATE (YYYY-MM-DD): see the header. */
export function promoteUnreleased(text, version, date) {
  const v = plainVersion(version)
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date ?? ''))
    throw new ChangelogError(`"${date ?? ''}" is not a YYYY-MM-DD date`)
  const doc = parseChangelog(text)
  const unreleased = doc.sections.findIndex(s => s.name.toLowerCase() === 'unreleased')
  if (unreleased < 0) throw new ChangelogError('CHANGELOG.md has no "## [Unreleased]" section')
  const entries = doc.sections[unreleased].body
  if (!hasEntries(entries))
    throw new ChangelogError('CHANGELOG.md\'s "## [Unreleased]" section has no entries')
  if (doc.sections.some(s => s.name === v)) throw new ChangelogError(`CHANGELOG.md already has "## [${v}]"`)
  const previous = doc.sections.map(s => s.name).find(n => VERSION.test(n))
  if (previous && !newer(v, previous))
    throw new ChangelogError(`${v} is not newer than the last release in CHANGELOG.md, ${previous}`)

  const sections = [...doc.sections]
  sections.splice(
    unreleased,
    1,
    { name: doc.sections[unreleased].name, rest: '', body: [] },
    { name: v, rest: ` - ${date}`, body: withoutEmptyKinds(entries) }
  )
  let links = doc.links
  const link = links.find(l => l.label.toLowerCase() === 'unreleased')
  const repository = link && repositoryOf(link.url)
  if (repository) {
    const released = previous
      ? `${repository}/compare/v${previous}...v${v}`
      : `${repository}/releases/tag/v${v}`
    links = links.flatMap(l =>
      l === link
        ? [
            { label: l.label, url: `${repository}/compare/v${v}...HEAD` },
            { label: v, url: released }
          ]
        : [l]
    )
  }
  return render({ head: doc.head, sections, links })
}

function main(argv) {
  const flags = { file: 'CHANGELOG.md', stdout: false }
  const args = []
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--file') flags.file = argv[++i]
    else if (argv[i] === '--stdout') flags.stdout = true
    else args.push(argv[i])
  }
  const [command, version, date] = args
  const text = readFileSync(flags.file, 'utf8')
  if (command === 'notes' && args.length === 2) process.stdout.write(releaseNotes(text, version))
  else if (command === 'release' && args.length === 3) {
    const released = promoteUnreleased(text, version, date)
    if (flags.stdout) process.stdout.write(released)
    else writeFileSync(flags.file, released)
  } else
    throw new ChangelogError(
      'usage: changelog.mjs notes VERSION | release VERSION YYYY-MM-DD [--file F] [--stdout]'
    )
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main(process.argv.slice(2))
  } catch (err) {
    if (!(err instanceof ChangelogError) && err.code !== 'ENOENT') throw err
    console.error(`changelog.mjs: ${err.message}`)
    process.exit(1)
  }
}
