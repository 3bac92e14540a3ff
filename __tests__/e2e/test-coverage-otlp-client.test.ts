// The cargo preset on the bundled service itself (otlp-client/), through the runner-faithful
// harness, as the PR-CI example runs it: tarpaulin coverage, clippy and rustfmt, a threshold, and
// the outputs and summary a reviewer reads. The relay's peer tests run against a real Collector.
import { jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { REPO_ROOT, runAction } from '../harness/runner.js'
import { join } from 'node:path'

jest.setTimeout(1_800_000)

it('runs otlp-client tests with coverage, lint and a threshold, and reports them', async () => {
  const peers = execFileSync('bash', [join(REPO_ROOT, 'otlp-client/scripts/peers.sh'), 'otelcol'], {
    encoding: 'utf8'
  })
  const otelcol = /OTELCOL_BIN=(\S+)/.exec(peers)?.[1]
  expect(otelcol).toBeTruthy()
  const run = await runAction({
    action: 'test-coverage',
    inputs: { preset: 'cargo', 'working-directory': 'otlp-client', lint: true, 'min-coverage': '50' },
    env: { OTELCOL_BIN: otelcol, CARGO_HOME: process.env.CARGO_HOME, RUSTUP_HOME: process.env.RUSTUP_HOME },
    timeoutMs: 1_700_000
  })
  expect(run.annotations.filter(a => a.level === 'error')).toEqual([])
  expect(run.exitCode).toBe(0)
  expect(Number(run.outputs.coverage)).toBeGreaterThan(50)
  expect(Number(run.outputs.tests)).toBeGreaterThan(20)
  expect(run.outputs.failures).toBe('0')
  expect(run.summary).toMatch(/src\/pipeline\//)
  expect(run.summary).toMatch(/breaker\.rs/)
})
