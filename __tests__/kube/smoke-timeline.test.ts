import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  parseSmokeExpectation,
  smokeBackoffMs,
  smokeResponseProblem,
  smokeUrl
} from '../../src/kube/smoke.js'
import { timelineGantt, timelineTable } from '../../src/kube/timeline.js'

describe('smoke expectations', () => {
  it('parses substrings and json:path=value', () => {
    expect(parseSmokeExpectation('ok')).toEqual({ kind: 'substring', text: 'ok' })
    expect(parseSmokeExpectation('json:checks.0.state=up')).toEqual({
      kind: 'json',
      path: ['checks', '0', 'state'],
      value: 'up'
    })
    expect(parseSmokeExpectation('json:status')).toMatch(/not json:path=value/)
    expect(parseSmokeExpectation('json:a..b=1')).toMatch(/empty path segment/)
  })

  it.each([
    [200, 'healthy', undefined, undefined],
    [503, 'down', undefined, /^HTTP 503: down/],
    [200, 'hello', { kind: 'substring', text: 'healthy' }, /does not contain "healthy"/],
    [200, '{"status":"ok"}', { kind: 'json', path: ['status'], value: 'ok' }, undefined],
    [200, '{"n":3}', { kind: 'json', path: ['n'], value: '3' }, undefined],
    [
      200,
      '{"status":"degraded"}',
      { kind: 'json', path: ['status'], value: 'ok' },
      /status is "degraded", expected "ok"/
    ],
    [200, 'nope', { kind: 'json', path: ['status'], value: 'ok' }, /not JSON/],
    [200, '{}', { kind: 'json', path: ['a', 'b'], value: 'ok' }, /has no a\.b/]
  ] as const)('status %d body %j', (status, body, expect_, problem) => {
    const p = smokeResponseProblem(status, body, expect_ as never)
    if (problem) expect(p).toMatch(problem)
    else expect(p).toBeUndefined()
  })

  it('backs off exponentially up to 10s', () => {
    expect([1, 2, 3, 4, 5, 6].map(smokeBackoffMs)).toEqual([1000, 2000, 4000, 8000, 10000, 10000])
  })

  it('retries a real endpoint until it answers 2xx', async () => {
    let calls = 0
    const server = createServer((_, res) => {
      calls++
      res.writeHead(calls < 3 ? 503 : 200).end(calls < 3 ? 'starting' : '{"status":"ok"}')
    })
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`
    try {
      const r = await smokeUrl(url, {
        expect: { kind: 'json', path: ['status'], value: 'ok' },
        timeoutMs: 5000,
        retries: 5,
        backoffMs: () => 10
      })
      expect(r).toMatchObject({ ok: true, attempts: 3 })
      const closed = createServer()
      await new Promise<void>(r => closed.listen(0, '127.0.0.1', r))
      const closedPort = (closed.address() as AddressInfo).port
      await new Promise(r => closed.close(r))
      const bad = await smokeUrl(`http://127.0.0.1:${closedPort}/none`, {
        expect: undefined,
        timeoutMs: 2000,
        retries: 2,
        backoffMs: () => 10
      })
      expect(bad).toMatchObject({ ok: false, attempts: 2, problem: 'ECONNREFUSED' })
    } finally {
      server.close()
    }
  })
})

describe('timeline', () => {
  const entries = [
    { phase: 'validate', start: 1000, end: 1200, outcome: 'ok' as const },
    {
      phase: 'rollout',
      start: 1200,
      end: 9200,
      outcome: 'failed' as const,
      detail: 'pod web-1 is doomed: CrashLoopBackOff'
    },
    { phase: 'rollback: web', start: 9200, end: 9200, outcome: 'ok' as const }
  ]
  it('renders a table relative to the start', () => {
    const t = timelineTable(entries, 1000)
    expect(t).toContain('| rollout | +200ms | 8s | ❌ failed | pod web-1 is doomed: CrashLoopBackOff |')
  })
  it('renders a Mermaid gantt with failed phases marked critical and safe names', () => {
    const g = timelineGantt(entries, 1000)
    expect(g).toContain('```mermaid\ngantt')
    expect(g).toContain('  rollout :crit, p1, 200, 8200')
    expect(g).toContain('  rollback web :done, p2, 8200, 8201')
  })
})
