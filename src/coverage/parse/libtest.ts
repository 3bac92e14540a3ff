import { stripAnsi } from '../errors.js'
import { emptyTests, type TestFailure, type TestResults } from '../model.js'
import { findLocation, panicMessage } from './location.js'

/**
 * The human output of Rust's libtest (`cargo test`, also echoed by cargo-tarpaulin): the counts
 * come from each binary's `test result:` line, the failures from the `---- name stdout ----`
 * blocks, whose panic line gives file:line. Used when a cargo run produced no JUnit report.
 */
export function parseLibtestOutput(output: string): TestResults {
  const results = emptyTests()
  const lines = output.split(/\r?\n/)
  const failedNames = new Set<string>()
  const blocks = new Map<string, string[]>()
  let suite = ''
  let block: string[] | undefined
  let sawResult = false
  for (const raw of lines) {
    const line = stripAnsi(raw)
    // cargo: `Running unittests src/lib.rs (target/...)`; tarpaulin: `... running /…/deps/name-hash`
    const running =
      /^\s*(?:Running (?:unittests )?(\S+)|Doc-tests (\S+))/.exec(line) ??
      /\srunning (\/\S+\/deps\/[\w-]+?)(?:-[0-9a-f]{16})?$/.exec(line)
    if (running) {
      suite = running[1] ? running[1].replace(/^.*\/deps\//, '') : `doctests ${running[2]}`
      block = undefined
      continue
    }
    const header = /^---- (.+?) (?:stdout|stderr) ----$/.exec(line)
    if (header) {
      const key = `${suite}\u0000${header[1]}`
      block = blocks.get(key) ?? []
      blocks.set(key, block)
      continue
    }
    const testLine = /^test (.+?) \.\.\. (FAILED|ok|ignored)/.exec(line)
    if (testLine && testLine[2] === 'FAILED') failedNames.add(`${suite}\u0000${testLine[1]}`)
    const result =
      /^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored; (\d+) measured; (\d+) filtered out(?:; finished in ([\d.]+)s)?/.exec(
        line
      )
    if (result) {
      sawResult = true
      const [passed, failed, ignored] = [Number(result[1]), Number(result[2]), Number(result[3])]
      results.passed += passed
      results.failures += failed
      results.skipped += ignored
      results.tests += passed + failed + ignored
      results.durationMs += Math.round(Number(result[6] ?? 0) * 1000)
      block = undefined
      continue
    }
    if (/^failures:\s*$/.test(line)) {
      block = undefined
      continue
    }
    if (block) block.push(raw)
  }
  for (const key of failedNames) {
    const [suiteName, name] = key.split('\u0000') as [string, string]
    const body = (blocks.get(key) ?? []).join('\n').trim()
    const failure: TestFailure = {
      suite: suiteName,
      name,
      message: panicMessage(body) || 'test failed',
      details: body
    }
    const location = findLocation(body)
    if (location) Object.assign(failure, location)
    results.failed.push(failure)
  }
  if (!sawResult) results.tests = 0
  return results
}
