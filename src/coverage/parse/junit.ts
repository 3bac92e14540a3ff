import { ReportError } from '../errors.js'
import { emptyTests, type TestFailure, type TestResults } from '../model.js'
import { findLocation, panicMessage } from './location.js'
import { attr, child, children, parseXml, text, type XmlNode } from './xml.js'

export { findLocation } from './location.js'

/**
 * JUnit XML as written by jest-junit, cargo-nextest, node --test's junit reporter, surefire and
 * pytest. Counts come from the <testcase> elements themselves (suite attributes are often stale or
 * missing); a failure's location comes from the testcase's file/line attributes, else from the
 * first useful stack frame or Rust panic location in its text.
 */
export function parseJunit(xml: string, source: string): TestResults {
  const doc = parseXml(xml, source, ['testsuite', 'testcase', 'failure', 'error', 'skipped'])
  const root = child(doc, 'testsuites') ?? (doc.testsuite ? doc : undefined)
  if (!root) throw new ReportError(source, 1, 'has no <testsuites> or <testsuite> root element: not a JUnit report')
  const results = emptyTests()
  walk(root, '', results)
  return results
}

function walk(node: XmlNode, suiteName: string, results: TestResults): void {
  for (const testcase of children(node, 'testcase')) readCase(testcase, suiteName, results)
  for (const suite of children(node, 'testsuite')) walk(suite, attr(suite, 'name') ?? suiteName, results)
}

const SKIPPED_STATUSES = new Set(['disabled', 'skipped', 'ignored', 'notrun', 'not run'])

function readCase(tc: XmlNode, suite: string, results: TestResults): void {
  results.tests++
  results.durationMs += Math.round(Number(attr(tc, 'time') ?? 0) * 1000) || 0
  const failure = children(tc, 'failure')[0]
  const error = children(tc, 'error')[0]
  // A skip is a <skipped> element, or (tst and others) only a status attribute.
  const status = (attr(tc, 'status') ?? '').toLowerCase()
  const skipped = children(tc, 'skipped').length > 0 || SKIPPED_STATUSES.has(status)
  if (skipped && !failure && !error) {
    results.skipped++
    return
  }
  const problem = failure ?? error
  if (!problem) {
    results.passed++
    return
  }
  if (failure) results.failures++
  else results.errors++
  const body = [text(problem), text(child(tc, 'system-out')), text(child(tc, 'system-err'))].join('\n')
  const name = (attr(tc, 'name') ?? '').trim() || '(unnamed test)'
  const record: TestFailure = {
    suite: suite || attr(tc, 'classname') || '',
    name,
    message: failureMessage(attr(problem, 'message') ?? '', body) || `${failure ? 'failure' : 'error'}`,
    details: body.trim()
  }
  const file = attr(tc, 'file')
  const line = Number(attr(tc, 'line'))
  const located = Number.isInteger(line) && line > 0 && file ? { file, line } : findLocation(body, file)
  if (located) Object.assign(record, located)
  results.failed.push(record)
}

/** The attribute's first line, unless it is only where a Rust test panicked: then what it said. */
function failureMessage(attribute: string, body: string): string {
  const first = firstLine(attribute)
  if ((first === '' || /panicked at [^\s]+:\d+:\d+:?$/.test(first)) && /panicked at /.test(body)) return panicMessage(body)
  return first || firstMeaningfulLine(body)
}

function firstLine(s: string): string {
  return s.split(/\r?\n/).find(l => l.trim() !== '')?.trim() ?? ''
}

function firstMeaningfulLine(body: string): string {
  return firstLine(body.replace(/^\s*at .*$/gm, ''))
}
