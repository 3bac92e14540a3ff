import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { ReportError } from '../errors.js'

export type XmlNode = Record<string, unknown>

const ATTRS = '$attrs'

/**
 * Parses XML into plain objects (attributes without prefix, text under `#text`), validating it
 * first so that malformed XML is reported at its line instead of half-parsed.
 */
export function parseXml(text: string, source: string, arrays: readonly string[]): XmlNode {
  const valid = XMLValidator.validate(text)
  if (valid !== true) throw new ReportError(source, valid.err.line, `is not well-formed XML: ${valid.err.msg}`)
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    // Attributes apart from children: node's JUnit has a `failure` attribute beside <failure>.
    attributesGroupName: ATTRS,
    textNodeName: '#text',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    isArray: name => arrays.includes(name)
  })
  try {
    return parser.parse(text) as XmlNode
  } catch (err) {
    const message = (err as Error).message
    if (/nested tags/i.test(message))
      throw new ReportError(
        source,
        deepestLine(text, MAX_NESTING),
        `nests elements more than ${MAX_NESTING} deep, more than any report format needs: not a coverage or test report?`
      )
    throw new ReportError(source, undefined, `cannot be read as XML: ${message}`)
  }
}

/** fast-xml-parser's default limit (maxNestedTags). */
const MAX_NESTING = 100

/**
 * The line where element nesting first passes `limit`: the parser says only that it did. A scan of
 * tags (comments, CDATA and processing instructions skipped) is enough on XML the validator passed.
 */
export function deepestLine(text: string, limit: number): number | undefined {
  let depth = 0
  let line = 1
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 10) line++
    if (c !== 60) continue
    const next = text[i + 1]
    if (next === '!' || next === '?') {
      const close = text.startsWith('<!--', i) ? '-->' : text.startsWith('<![CDATA[', i) ? ']]>' : '>'
      const end = text.indexOf(close, i)
      if (end === -1) return undefined
      for (let j = i; j < end; j++) if (text.charCodeAt(j) === 10) line++
      i = end
      continue
    }
    const end = text.indexOf('>', i)
    if (end === -1) return undefined
    if (next === '/') depth--
    else if (text[end - 1] !== '/') depth++
    if (depth > limit) return line
    for (let j = i; j < end; j++) if (text.charCodeAt(j) === 10) line++
    i = end
  }
  return undefined
}

export function children(node: unknown, name: string): XmlNode[] {
  if (!node || typeof node !== 'object') return []
  const value = (node as XmlNode)[name]
  if (value === undefined) return []
  const list = Array.isArray(value) ? value : [value]
  return list.map(v => (v && typeof v === 'object' ? (v as XmlNode) : { '#text': String(v ?? '') }))
}

export function child(node: unknown, name: string): XmlNode | undefined {
  return children(node, name)[0]
}

export function attr(node: XmlNode | undefined, name: string): string | undefined {
  const v = (node?.[ATTRS] as Record<string, unknown> | undefined)?.[name]
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined
}

export function text(node: XmlNode | undefined): string {
  if (!node) return ''
  const t = node['#text']
  return typeof t === 'string' ? t : ''
}
