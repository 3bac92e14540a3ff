/**
 * Pure markdown builders shared by job summaries and PR comments (both render GitHub markdown).
 */

export function heading(text: string, level: 1 | 2 | 3 | 4 = 2): string {
  return `${'#'.repeat(level)} ${text}\n`
}

/** Escapes what would break a table cell: pipes and newlines. */
export function cell(value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null) return ''
  return String(value).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>')
}

export type Align = 'left' | 'right' | 'center'

export function table(
  headers: readonly string[],
  rows: readonly (readonly (string | number | boolean | undefined | null)[])[],
  align: readonly Align[] = []
): string {
  const sep = headers.map((_, i) => {
    const a = align[i]
    return a === 'right' ? '---:' : a === 'center' ? ':---:' : '---'
  })
  const line = (cells: readonly (string | number | boolean | undefined | null)[]) =>
    `| ${headers.map((_, i) => cell(cells[i])).join(' | ')} |`
  return [line(headers), `| ${sep.join(' | ')} |`, ...rows.map(line)].join('\n') + '\n'
}

/** A collapsible section; the body is markdown (a blank line keeps GitHub rendering it). */
export function details(summary: string, body: string, open = false): string {
  return `<details${open ? ' open' : ''}><summary>${escapeHtml(summary)}</summary>\n\n${body.trimEnd()}\n\n</details>\n`
}

export function codeBlock(text: string, language = ''): string {
  const fence = text.includes('```') ? '````' : '```'
  return `${fence}${language}\n${text.trimEnd()}\n${fence}\n`
}

export function bulletList(items: readonly string[]): string {
  return items.map(i => `- ${i}`).join('\n') + '\n'
}

/** Text from outside (an error message, a log line) as literal inline markdown: no HTML, no emphasis, no links. */
export function inline(text: string): string {
  return escapeHtml(text)
    .replace(/([\\`*_[\]|~#])/g, '\\$1')
    .replace(/\r?\n/g, ' ')
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Joins sections with one blank line between them. */
export function join(...sections: (string | undefined | false)[]): string {
  return (
    sections
      .filter((s): s is string => typeof s === 'string' && s !== '')
      .map(s => s.trimEnd())
      .join('\n\n') + '\n'
  )
}
