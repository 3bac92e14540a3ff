import { formatDate } from '../../src/image/metadata/date-format.js'
import { parseExpression, renderTemplate } from '../../src/image/metadata/template.js'

const at = new Date('2026-11-26T09:30:05.123Z')

describe('moment-style date formats', () => {
  it.each([
    ['YYYYMMDD', 'UTC', '20261126'],
    ['YYYYMMDD-HHmmss', 'Asia/Tokyo', '20261126-183005'],
    ['dddd, MMMM Do YYYY, h:mm:ss a', 'UTC', 'Thursday, November 26th 2026, 9:30:05 am'],
    ['YYYY-MM-DDTHH:mm:ss.SSS[Z]', 'UTC', '2026-11-26T09:30:05.123Z'],
    ['YY.M.D H A', 'America/New_York', '26.11.26 4 AM'],
    ['Z', 'Asia/Kolkata', '+05:30'],
    ['X', 'UTC', '1795685405']
  ])('%s in %s is %s', (format, tz, expected) => {
    expect(formatDate(at, format, tz)).toBe(expected)
  })
})

describe('expressions', () => {
  it('reads names, quoted arguments and options', () => {
    expect(parseExpression(' date \'YYYY MM\' tz="Asia/Tokyo" ')).toEqual({
      name: 'date',
      args: ['YYYY MM'],
      options: { tz: 'Asia/Tokyo' }
    })
  })

  it('renders several expressions and refuses unknown ones', () => {
    expect(renderTemplate('{{a}}-{{ b }}', { a: '1', b: '2' })).toBe('1-2')
    expect(() => renderTemplate('{{c}}', { a: '1' })).toThrow(
      '{{c}} is not a known expression; use one of {{a}}'
    )
  })
})
