import { parseJunit, findLocation } from '../../src/coverage/parse/junit.js'
import { parseLibtestOutput } from '../../src/coverage/parse/libtest.js'
import { report } from './fixtures.js'

describe('parseJunit on real reports', () => {
  it('node --test: counts and the failure located by its file:// stack frame', () => {
    const { text, source } = report('node/junit-failing.xml')
    const r = parseJunit(text, source)
    expect(r).toMatchObject({ tests: 4, passed: 3, failures: 1, errors: 0, skipped: 0 })
    expect(r.failed).toEqual([
      expect.objectContaining({
        name: 'a 404 is retryable (wrong on purpose when SAMPLE_FAIL=1)',
        message: 'Expected values to be strictly equal:false !== true',
        file: '/work/main/__tests__/fixtures/coverage/sample-npm/test/retry.test.mjs',
        line: 22
      })
    ])
  })

  it('jest-junit on this repository: every test passed', () => {
    const { text, source } = report('jest/junit.xml')
    const r = parseJunit(text, source)
    const declared = Number(/<testsuites[^>]* tests="(\d+)"/.exec(text)![1])
    expect(r.tests).toBe(declared)
    expect(r.failures + r.errors).toBe(0)
    expect(r.passed).toBe(r.tests - r.skipped)
  })

  it('jest-junit with a failure: the location is the frame in the test file', () => {
    const { text, source } = report('jest/junit-failing.xml')
    const r = parseJunit(text, source)
    expect(r).toMatchObject({ tests: 2, passed: 1, failures: 1 })
    expect(r.failed[0]).toMatchObject({ name: 'keeps small values', file: '/tmp/jest-failing/limits.test.js', line: 6 })
    expect(r.failed[0]!.message).toMatch(/expect\(received\)\.toBe\(expected\)/)
  })

  it('cargo-nextest: counts per binary, the failure located by the panic', () => {
    const { text, source } = report('sample-crate/nextest-junit.xml')
    const r = parseJunit(text, source)
    expect(r).toMatchObject({ tests: 6, failures: 1, skipped: 0 })
    expect(r.failed[0]).toMatchObject({ suite: 'sample-crate', name: 'tests::young_batch_waits', file: 'src/lib.rs', line: 73 })
    // nextest's message attribute only says where it panicked; the message is what the panic said.
    expect(r.failed[0]!.message).toMatch(/^assertion `left == right` failed: a batch younger than the deadline must wait/)
  })
})

describe('parseJunit on edge cases', () => {
  it('a single <testsuite> root, skipped and errored cases, nested suites', () => {
    const xml = `<?xml version="1.0"?>
<testsuite name="outer" tests="99">
  <testcase name="ok" time="0.5"/>
  <testcase name="skip"><skipped/></testcase>
  <testsuite name="inner">
    <testcase name="boom" file="src/x.py" line="12"><error message="ValueError: bad">trace</error></testcase>
  </testsuite>
</testsuite>`
    const r = parseJunit(xml, 'r.xml')
    expect(r).toMatchObject({ tests: 3, passed: 1, skipped: 1, errors: 1, failures: 0, durationMs: 500 })
    expect(r.failed[0]).toMatchObject({ suite: 'inner', name: 'boom', message: 'ValueError: bad', file: 'src/x.py', line: 12 })
  })

  it('names the file and line of malformed XML', () => {
    expect(() => parseJunit('<testsuites>\n<testcase name="a">\n</testsuites>', 'j.xml')).toThrow(/^j.xml:3: is not well-formed XML/)
  })

  it('refuses XML that is not JUnit', () => {
    expect(() => parseJunit('<coverage/>', 'c.xml')).toThrow('c.xml:1: has no <testsuites> or <testsuite> root element: not a JUnit report')
  })
})

describe('findLocation', () => {
  it.each([
    ["thread 'x' (123) panicked at src/lib.rs:73:9:\nassertion failed", { file: 'src/lib.rs', line: 73 }],
    ["thread 'x' panicked at 'old style', tests/it.rs:5:3", { file: 'tests/it.rs', line: 5 }],
    ['at Object.<anonymous> (node_modules/expect/build/index.js:1:1)\n    at t (/ws/src/a.test.ts:40:7)', { file: '/ws/src/a.test.ts', line: 40 }],
    ['no location here', undefined]
  ])('%#', (body, expected) => {
    expect(findLocation(body)).toEqual(expected)
  })
})

describe('parseLibtestOutput on real cargo output', () => {
  it('cargo test with a failing test: counts from every binary and the panic location', () => {
    const { text } = report('sample-crate/cargo-test-failing.log')
    const r = parseLibtestOutput(text)
    expect(r).toMatchObject({ tests: 7, passed: 5, failures: 1, skipped: 1 })
    expect(r.failed).toHaveLength(1)
    expect(r.failed[0]).toMatchObject({ name: 'tests::young_batch_waits', file: 'src/lib.rs' })
    expect(r.failed[0]!.message).toMatch(/a batch younger than the deadline must wait/)
  })

  it('the same failure as echoed by cargo-tarpaulin', () => {
    const { text } = report('sample-crate/tarpaulin-failing.log')
    const r = parseLibtestOutput(text)
    expect(r.failures).toBe(1)
    expect(r.failed[0]).toMatchObject({ name: 'tests::young_batch_waits', file: 'src/lib.rs' })
  })

  it('output without any test result line counts no tests (not zero passed of a run)', () => {
    expect(parseLibtestOutput('error[E0425]: cannot find value `x`\n').tests).toBe(0)
  })
})
