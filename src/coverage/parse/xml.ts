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
  return parser.parse(text) as XmlNode
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
