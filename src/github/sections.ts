/**
 * One sticky comment shared by several runs, each keeping its own section (pure). A monorepo's
 * jobs (one per package, each with its own title) then show one comment on the pull request, not
 * one each. Sections are delimited by hidden HTML comments and kept in key order, so the comment
 * reads the same whichever job finished first.
 */

const OPEN = (key: string) => `<!-- section:${key} -->`
const CLOSE = (key: string) => `<!-- /section:${key} -->`
const SECTION = /<!-- section:([^>\n]*?) -->\n([\s\S]*?)\n<!-- \/section:\1 -->/g

/** A key as it can sit in the delimiters: no `-->`, no line break. */
export function sectionKey(text: string): string {
  return (
    text
      .replace(/-->|[\r\n]/g, ' ')
      .replace(/--/g, '-')
      .trim() || 'default'
  )
}

/** Text that cannot open or close a section, or pass for a marker (a section's body is the report of code under test). */
export function neutralise(text: string): string {
  return text.replace(/<!--/g, '&lt;!--')
}

export function sectionsOf(body: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of body.matchAll(SECTION)) out.set(m[1]!, m[2]!)
  return out
}

export function renderSections(marker: string, sections: ReadonlyMap<string, string>): string {
  const keys = [...sections.keys()].sort((a, b) => a.localeCompare(b))
  return [marker, ...keys.map(k => `${OPEN(k)}\n${sections.get(k)!}\n${CLOSE(k)}`)].join('\n')
}

/** The comment body with `key`'s section set to `section` (the others as they were). */
export function withSection(body: string | undefined, marker: string, key: string, section: string): string {
  const sections = body ? sectionsOf(body) : new Map<string, string>()
  sections.set(key, neutralise(section.trimEnd()))
  return renderSections(marker, sections)
}

/** Every section of `from` that `into` lacks, added (two runs that each created the comment at once). */
export function mergeMissing(into: string, from: string, marker: string): string {
  const sections = sectionsOf(into)
  for (const [k, v] of sectionsOf(from)) if (!sections.has(k)) sections.set(k, v)
  return renderSections(marker, sections)
}
