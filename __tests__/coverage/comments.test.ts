// The sticky-comment adapter against an in-process GitHub API stand-in on 127.0.0.1: pagination
// while looking for the marker, and which failures are "skipped" rather than thrown.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

let server: Server
let pages: { id: number; body: string; user?: { login: string } }[][]
let writeStatus: number
const calls: string[] = []
let upsert: typeof import('../../src/github/comments.js').upsertStickyComment

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    calls.push(`${req.method} ${url.pathname}${url.searchParams.has('page') ? `?page=${url.searchParams.get('page')}` : ''}`)
    const json = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(JSON.stringify(data))
    }
    if (req.method === 'GET' && url.pathname === '/user') return json(200, { login: 'me' })
    if (req.method === 'GET') {
      const page = Number(url.searchParams.get('page') ?? 1)
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${url.pathname}`
      const link: Record<string, string> =
        page < pages.length ? { link: `<${base}?per_page=100&page=${page + 1}>; rel="next"` } : {}
      return json(200, pages[page - 1] ?? [], link)
    }
    if (writeStatus !== 200) return json(writeStatus, { message: writeStatus === 404 ? 'Not Found' : 'Forbidden' })
    json(200, { id: 7, html_url: 'http://x/7' })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  // @actions/github reads GITHUB_API_URL when it is first imported.
  process.env.GITHUB_API_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  upsert = (await import('../../src/github/comments.js')).upsertStickyComment
})
const previousApiUrl = process.env.GITHUB_API_URL
afterAll(async () => {
  // Test files share a worker's environment: leave it as found.
  if (previousApiUrl === undefined) delete process.env.GITHUB_API_URL
  else process.env.GITHUB_API_URL = previousApiUrl
  await new Promise<void>(resolve => server.close(() => resolve()))
})
beforeEach(() => {
  calls.length = 0
  writeStatus = 200
})

const target = { token: 't', owner: 'o', repo: 'r', issueNumber: 5, marker: '<!-- m -->' }

it('pages through the comments to find the marked one and updates it', async () => {
  const filler = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, body: 'chatter', user: { login: 'someone' } }))
  pages = [filler, [{ id: 7, body: '<!-- m -->\nold', user: { login: 'me' } }]]
  await expect(upsert(target, 'new')).resolves.toMatchObject({ action: 'updated', id: 7 })
  expect(calls).toEqual([
    'GET /user',
    'GET /repos/o/r/issues/5/comments',
    'GET /repos/o/r/issues/5/comments?page=2',
    'PATCH /repos/o/r/issues/comments/7'
  ])
})

it("ignores a marker planted in another user's comment", async () => {
  pages = [[{ id: 3, body: '<!-- m -->\nplanted', user: { login: 'mallory' } }]]
  await expect(upsert(target, 'new')).resolves.toMatchObject({ action: 'created' })
  expect(calls.at(-1)).toBe('POST /repos/o/r/issues/5/comments')
})

it('creates a comment when no page has the marker', async () => {
  pages = [[{ id: 1, body: 'chatter <!-- other -->' }]]
  await expect(upsert(target, 'new')).resolves.toMatchObject({ action: 'created' })
  expect(calls.at(-1)).toBe('POST /repos/o/r/issues/5/comments')
})

it.each([403, 401])('HTTP %i on write is skipped with the reason', async status => {
  pages = [[]]
  writeStatus = status
  const result = await upsert(target, 'new')
  expect(result).toMatchObject({ action: 'skipped', reason: expect.stringContaining(`o/r#5 (HTTP ${status}`) })
})

it('other errors are thrown for the caller to report', async () => {
  pages = [[]]
  writeStatus = 404
  await expect(upsert(target, 'new')).rejects.toThrow(/Not Found/)
})
