import { ReportError, parseJson } from './errors.js'
import type { CoverageReport } from './model.js'
import { parseCobertura } from './parse/cobertura.js'
import { parseGoCover } from './parse/gocover.js'
import { parseIstanbulSummary } from './parse/istanbul.js'
import { parseJacoco } from './parse/jacoco.js'
import { parseLcov } from './parse/lcov.js'
import { parseTarpaulinJson } from './parse/tarpaulin.js'
import { parseStoredReport, STORED_SCHEMA } from './store.js'

const FORMATS = 'lcov, Cobertura XML, JaCoCo XML, Go cover profile, tarpaulin JSON, istanbul json-summary'

/** Parses a coverage report of any supported format, recognised by its content, not its name. */
export function parseCoverage(text: string, source: string): CoverageReport {
  const body = text.replace(/^\uFEFF/, '')
  const head = body.trimStart()
  if (head === '') throw new ReportError(source, 1, `is empty; expected a coverage report (${FORMATS})`)
  if (head.startsWith('<')) {
    if (/<coverage[\s>]/.test(head.slice(0, 4096)) || /<coverage[\s>]/.test(head)) return parseCobertura(body, source)
    if (/<!DOCTYPE report PUBLIC "-\/\/JACOCO|<report[\s>]/.test(head.slice(0, 4096))) return parseJacoco(body, source)
    if (/<testsuites?[\s>]/.test(head.slice(0, 4096))) {
      throw new ReportError(source, 1, 'is a JUnit test report, not coverage', 'List it under junit-files instead of coverage-files.')
    }
    throw new ReportError(source, 1, `is XML without a <coverage> root: not Cobertura (supported: ${FORMATS})`)
  }
  if (head.startsWith('{')) {
    const doc = parseJson(body, source)
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new ReportError(source, 1, `is JSON but not an object (supported: ${FORMATS})`)
    }
    const o = doc as Record<string, unknown>
    if (o.schema === STORED_SCHEMA) return parseStoredReport(o, source)
    if (Array.isArray(o.files)) return parseTarpaulinJson(doc, body, source)
    const total = o.total as Record<string, unknown> | undefined
    if (total && typeof total === 'object' && 'lines' in total) return parseIstanbulSummary(doc, body, source)
    const first = Object.values(o)[0] as Record<string, unknown> | undefined
    if (first && typeof first === 'object' && 'statementMap' in first) {
      throw new ReportError(
        source,
        1,
        "is istanbul's detailed coverage-final.json, which is not read",
        'Add the json-summary or lcov reporter (jest: --coverageReporters=json-summary) and point coverage-files at it.'
      )
    }
    throw new ReportError(source, 1, `is JSON that is neither tarpaulin's report nor istanbul's json-summary`)
  }
  if (/^(TN|SF|VER):/m.test(head.slice(0, 4096))) return parseLcov(body, source)
  if (/^mode: (set|count|atomic)\s*$/m.test(head.split('\n', 1)[0]!)) return parseGoCover(body, source)
  const firstLine = head.split(/\r?\n/, 1)[0]!.slice(0, 60)
  throw new ReportError(source, 1, `is not a coverage report in a known format (${FORMATS}); it starts with ${JSON.stringify(firstLine)}`)
}
