/**
 * The `{{expression}}` templates of tag rules, labels and flavor: `{{branch}}`, `{{sha}}`,
 * `{{date 'YYYYMMDD' tz='Asia/Tokyo'}}`. A deliberately small language: a name, then positional
 * quoted arguments and key='value' options. An unknown name is an error, never an empty string.
 */

export interface ExpressionCall {
  name: string
  args: string[]
  options: Record<string, string>
}

export type ExpressionValue = string | ((call: ExpressionCall) => string)

export class TemplateError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TemplateError'
  }
}

const EXPRESSION = /\{\{(.*?)\}\}/g
const TOKEN = /\s*(?:([A-Za-z_][\w-]*)\s*=\s*)?(?:'([^']*)'|"([^"]*)"|([^\s'"=]+))/y

export function parseExpression(text: string): ExpressionCall {
  const body = text.trim()
  const name = /^[A-Za-z_][\w]*/.exec(body)?.[0]
  if (!name) throw new TemplateError(`{{${text}}} is not an expression (expected a name such as {{branch}})`)
  const call: ExpressionCall = { name, args: [], options: {} }
  TOKEN.lastIndex = name.length
  while (TOKEN.lastIndex < body.length) {
    const start = TOKEN.lastIndex
    const m = TOKEN.exec(body)
    if (!m || m.index !== start) throw new TemplateError(`cannot read the arguments of {{${text}}}`)
    const value = m[2] ?? m[3] ?? m[4] ?? ''
    if (m[1]) call.options[m[1]] = value
    else call.args.push(value)
    if (/^\s*$/.test(body.slice(TOKEN.lastIndex))) break
  }
  return call
}

/** Replaces every `{{...}}` in `template` from `values`; throws TemplateError for unknown names. */
export function renderTemplate(template: string, values: Record<string, ExpressionValue>): string {
  return template.replace(EXPRESSION, (_, inner: string) => {
    const call = parseExpression(inner)
    const value = Object.prototype.hasOwnProperty.call(values, call.name) ? values[call.name] : undefined
    if (value === undefined) {
      throw new TemplateError(
        `{{${inner.trim()}}} is not a known expression; use one of ${Object.keys(values)
          .map(k => `{{${k}}}`)
          .join(', ')}`
      )
    }
    return typeof value === 'function' ? value(call) : value
  })
}

export function hasExpression(template: string, name: string): boolean {
  for (const m of template.matchAll(EXPRESSION)) {
    try {
      if (parseExpression(m[1]!).name === name) return true
    } catch {
      // a malformed expression is reported when the template is rendered
    }
  }
  return false
}
