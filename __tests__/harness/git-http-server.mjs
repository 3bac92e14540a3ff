#!/usr/bin/env node
// A Git server on loopback that stands in for github.com's smart HTTP endpoint in the act runs:
// `node git-http-server.mjs ROOT PORT_FILE` serves every repository under ROOT as
// http://127.0.0.1:<port>/<owner>/<repo> through `git http-backend` (Git's own CGI server, so
// fetches speak the real protocol: v2, shallow, partial clone) and writes the port to PORT_FILE.
// Node has no CGI host and Debian's web servers would need root configuration, hence these lines.
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { writeFileSync } from 'node:fs'

const [root, portFile] = process.argv.slice(2)
if (!root || !portFile) {
  console.error('usage: git-http-server.mjs ROOT PORT_FILE')
  process.exit(2)
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1')
  let pathInfo
  try {
    pathInfo = decodeURIComponent(url.pathname).replace(/\.git(\/|$)/, '$1')
  } catch {
    return void res.writeHead(400).end('bad path\n')
  }
  const cgi = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      // Fetching one commit by its SHA, with a filter, as the workflow does from github.com.
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'uploadpack.allowAnySHA1InWant',
      GIT_CONFIG_VALUE_0: 'true',
      GIT_CONFIG_KEY_1: 'uploadpack.allowFilter',
      GIT_CONFIG_VALUE_1: 'true',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: pathInfo,
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1'
    },
    stdio: ['pipe', 'pipe', 'inherit']
  })
  // A client that hangs up, or a backend that exits before reading the whole body.
  cgi.stdin.on('error', () => undefined)
  cgi.on('error', err => {
    if (!res.headersSent) res.writeHead(500)
    res.end(`git http-backend: ${err.message}\n`)
  })
  req.pipe(cgi.stdin)
  let head = Buffer.alloc(0)
  let headerDone = false
  cgi.stdout.on('data', chunk => {
    if (headerDone) return void res.write(chunk)
    head = Buffer.concat([head, chunk])
    const end = head.indexOf('\r\n\r\n')
    if (end < 0) return
    headerDone = true
    let status = 200
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).trim()
      const value = line.slice(colon + 1).trim()
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10)
      else res.setHeader(name, value)
    }
    res.writeHead(status)
    res.write(head.subarray(end + 4))
  })
  cgi.on('close', code => {
    if (!headerDone) res.writeHead(500).end(`git http-backend exited ${code}\n`)
    else res.end()
  })
})
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)))
