/**
 * Smoke tests over HTTP: each URL must answer 2xx (and, when asked, contain a substring or a JSON
 * value), retried with exponential backoff within a time budget.
 */
import { proxiedFetch } from '../runtime/index.js'

export type SmokeExpectation =
  { kind: 'substring'; text: string } | { kind: 'json'; path: string[]; value: string }

/** `json:path.to.field=value` or any other text (a substring the body must contain). */
export function parseSmokeExpectation(text: string): SmokeExpectation | string {
  if (!text.startsWith('json:')) return { kind: 'substring', text }
  const body = text.slice('json:'.length)
  const eq = body.indexOf('=')
  if (eq <= 0) return `${JSON.stringify(text)} is not json:path=value (e.g. json:status=ok)`
  const path = body.slice(0, eq).split('.')
  if (path.some(p => p === '')) return `${JSON.stringify(text)} has an empty path segment`
  return { kind: 'json', path, value: body.slice(eq + 1) }
}

/** Why a response fails the smoke test, or undefined when it passes. */
export function smokeResponseProblem(
  status: number,
  body: string,
  expect: SmokeExpectation | undefined
): string | undefined {
  if (status < 200 || status > 299) return `HTTP ${status}${body ? `: ${truncate(body, 200)}` : ''}`
  if (!expect) return undefined
  if (expect.kind === 'substring') {
    return body.includes(expect.text)
      ? undefined
      : `the body does not contain ${JSON.stringify(expect.text)}: ${truncate(body, 200)}`
  }
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return `the body is not JSON: ${truncate(body, 200)}`
  }
  for (const key of expect.path) {
    if (value === null || typeof value !== 'object') return `the JSON has no ${expect.path.join('.')}`
    value = (value as Record<string, unknown>)[key]
  }
  if (value === undefined) return `the JSON has no ${expect.path.join('.')}`
  const actual = typeof value === 'string' ? value : JSON.stringify(value)
  return actual === expect.value
    ? undefined
    : `${expect.path.join('.')} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expect.value)}`
}

/** Delay before attempt n (n >= 1 is the second attempt): 1s, 2s, 4s... capped at 10s. */
export function smokeBackoffMs(attempt: number): number {
  return Math.min(10_000, 1000 * 2 ** Math.max(0, attempt - 1))
}

function truncate(text: string, n: number): string {
  const one = text.replace(/\s+/g, ' ').trim()
  return one.length > n ? `${one.slice(0, n)}...` : one
}

export interface SmokeOptions {
  expect: SmokeExpectation | undefined
  timeoutMs: number
  retries: number
  /** Shortens backoff in tests. */
  backoffMs?: (attempt: number) => number
  log?: (line: string) => void
}

export interface SmokeResult {
  url: string
  ok: boolean
  attempts: number
  problem?: string
  durationMs: number
}

/** Checks one URL, retrying until it passes, attempts run out, or the budget is spent. */
export async function smokeUrl(url: string, options: SmokeOptions): Promise<SmokeResult> {
  const started = Date.now()
  const deadline = started + options.timeoutMs
  const backoff = options.backoffMs ?? smokeBackoffMs
  let problem = 'not attempted'
  let attempts = 0
  for (let attempt = 0; attempt < options.retries; attempt++) {
    if (attempt > 0) {
      const wait = Math.min(backoff(attempt), deadline - Date.now())
      if (wait <= 0) break
      await new Promise(r => setTimeout(r, wait))
    }
    const left = deadline - Date.now()
    if (left <= 0) break
    attempts++
    try {
      // Through HTTPS_PROXY/HTTP_PROXY (NO_PROXY honoured) as curl or kubectl would go.
      const response = await proxiedFetch(url, {
        signal: AbortSignal.timeout(Math.min(10_000, left)),
        redirect: 'follow'
      })
      const body = await response.text()
      const p = smokeResponseProblem(response.status, body, options.expect)
      if (!p) return { url, ok: true, attempts, durationMs: Date.now() - started }
      problem = p
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } }
      problem =
        e.name === 'TimeoutError' ? 'no answer in time' : (e.cause?.code ?? e.cause?.message ?? e.message)
    }
    options.log?.(`smoke ${url}: attempt ${attempts} failed: ${problem}`)
  }
  return { url, ok: false, attempts, problem, durationMs: Date.now() - started }
}
