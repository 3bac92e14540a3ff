/**
 * Renders a date with moment.js format tokens (the syntax docker/metadata-action documents for
 * `{{date}}`), in a named IANA time zone, without a date library: Intl supplies the zone offset.
 */
import { TemplateError } from './template.js'

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December'
]
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

// Longest tokens first so that `YYYY` wins over `YY` and `MMMM` over `MM`.
const TOKENS = /\[([^\]]*)\]|YYYY|YY|MMMM|MMM|MM|M|Do|DD|D|dddd|ddd|d|HH|H|hh|h|mm|m|ss|s|SSS|A|a|ZZ|Z|X|x/g

interface Parts {
  year: number
  month: number // 1-12
  day: number
  weekday: number // 0 = Sunday
  hour: number
  minute: number
  second: number
  millisecond: number
  offsetMinutes: number
}

function zonedParts(date: Date, timeZone: string): Parts {
  let formatter: Intl.DateTimeFormat
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric'
    })
  } catch {
    throw new TemplateError(`tz='${timeZone}' is not a time zone; use an IANA name such as UTC or Asia/Tokyo`)
  }
  const get = (type: string) => Number(formatter.formatToParts(date).find(p => p.type === type)?.value ?? 0)
  const year = get('year')
  const month = get('month')
  const day = get('day')
  const hour = get('hour')
  const minute = get('minute')
  const second = get('second')
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second)
  const offsetMinutes = Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60_000)
  return {
    year,
    month,
    day,
    weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay(),
    hour,
    minute,
    second,
    millisecond: date.getUTCMilliseconds(),
    offsetMinutes
  }
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

function ordinal(n: number): string {
  const tens = n % 100
  if (tens >= 11 && tens <= 13) return `${n}th`
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`
}

function offset(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `${sign}${pad(Math.floor(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`
}

export function formatDate(date: Date, format: string, timeZone = 'UTC'): string {
  const p = zonedParts(date, timeZone)
  const hour12 = p.hour % 12 === 0 ? 12 : p.hour % 12
  return format.replace(TOKENS, (token, literal: string | undefined) => {
    if (literal !== undefined) return literal
    switch (token) {
      case 'YYYY':
        return pad(p.year, 4)
      case 'YY':
        return pad(p.year % 100)
      case 'MMMM':
        return MONTHS[p.month - 1]!
      case 'MMM':
        return MONTHS[p.month - 1]!.slice(0, 3)
      case 'MM':
        return pad(p.month)
      case 'M':
        return String(p.month)
      case 'Do':
        return ordinal(p.day)
      case 'DD':
        return pad(p.day)
      case 'D':
        return String(p.day)
      case 'dddd':
        return DAYS[p.weekday]!
      case 'ddd':
        return DAYS[p.weekday]!.slice(0, 3)
      case 'd':
        return String(p.weekday)
      case 'HH':
        return pad(p.hour)
      case 'H':
        return String(p.hour)
      case 'hh':
        return pad(hour12)
      case 'h':
        return String(hour12)
      case 'mm':
        return pad(p.minute)
      case 'm':
        return String(p.minute)
      case 'ss':
        return pad(p.second)
      case 's':
        return String(p.second)
      case 'SSS':
        return pad(p.millisecond, 3)
      case 'A':
        return p.hour < 12 ? 'AM' : 'PM'
      case 'a':
        return p.hour < 12 ? 'am' : 'pm'
      case 'ZZ':
        return offset(p.offsetMinutes, false)
      case 'Z':
        return offset(p.offsetMinutes, true)
      case 'X':
        return String(Math.floor(date.getTime() / 1000))
      case 'x':
        return String(date.getTime())
      default:
        return token
    }
  })
}
