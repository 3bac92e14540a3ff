#!/usr/bin/env node
// Authentication stand-ins the test bed's API server trusts (see testbed/README.md, "Authentication"):
// a token webhook (TokenReview), an OIDC issuer with a refresh_token grant (/oidc) and an issuer standing
// in for GitHub Actions' OIDC (/gha). Node builtins only; one HTTPS server on 127.0.0.1.
//
//   node authd.mjs serve --port=P --dir=DIR --cert=FILE --key=FILE        (testbed/testbed.sh starts it)
//   node authd.mjs mint-oidc USER [--ttl=S] [--refresh-ttl=S]   JSON {id_token, refresh_token, expires_in, ...}
//   node authd.mjs mint-gha --repository=OWNER/REPO --environment=ENV --aud=AUD [--ref=REF] [--ttl=S]   a JWT
//
// The mint commands sign with the key files in $TESTBED_AUTH_DIR for the issuers under $TESTBED_AUTH_URL
// (both in .testbed/env); they need no running daemon. Every request is logged as one JSON line.
import { randomUUID, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:https'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { jwtClaims, readHmacKey, rsaSigner, signHmacToken, verifyHmacToken } from './tokens.mjs'

const OIDC_CLIENT_ID = 'testbed-cli'
const DEFAULT_OIDC_TTL = 30
const DEFAULT_REFRESH_TTL = 3600
const MAX_BODY = 1 << 20

const log = fields => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`)

/** The key material of DIR (written by testbed/testbed.sh ensure_auth). */
function loadKeys(dir) {
  return {
    hmacKey: readHmacKey(join(dir, 'webhook.key')),
    clientSecret: readFileSync(join(dir, 'oidc-client-secret'), 'utf8').trim(),
    oidc: rsaSigner(join(dir, 'oidc-signing.key')),
    gha: rsaSigner(join(dir, 'gha-signing.key'))
  }
}

/** A first (or refreshed) OIDC token pair for USER; `t`/`r` travel in the refresh token for later refreshes. */
function issueOidcTokens(keys, issuer, user, ttl, refreshTtl) {
  const idToken = keys.oidc.sign(
    jwtClaims(issuer, OIDC_CLIENT_ID, ttl, {
      sub: user,
      email: `${user}@testbed.invalid`,
      email_verified: true,
      azp: OIDC_CLIENT_ID
    })
  )
  const exp = Math.floor(Date.now() / 1000) + refreshTtl
  const refreshToken = signHmacToken('tbr', { u: user, exp, t: ttl, r: refreshTtl, n: randomUUID() }, keys.hmacKey)
  // access_token: clients that only read access_token get the id_token, which is what the API server takes.
  return { id_token: idToken, access_token: idToken, token_type: 'Bearer', expires_in: ttl, refresh_token: refreshToken }
}

function ghaToken(keys, issuer, { repository, environment, ref, aud, ttl }) {
  return keys.gha.sign(
    jwtClaims(issuer, aud, ttl, {
      sub: `repo:${repository}:environment:${environment}`,
      repository,
      repository_owner: repository.split('/')[0],
      environment,
      ref,
      ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch'
    })
  )
}

function discovery(issuer, extra) {
  return {
    issuer,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    ...extra
  }
}

const sameSecret = (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

/** Client credentials from HTTP Basic (RFC 6749 2.3.1: form-encoded, then base64) or from the body. */
function clientCredentials(req, form) {
  const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')
  if (!basic) return { id: form.get('client_id') ?? '', secret: form.get('client_secret') ?? '' }
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  // A malformed escape gives an empty id: invalid_client (401), not a server error.
  const unform = s => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '))
    } catch {
      return ''
    }
  }
  return colon < 0 ? { id: unform(decoded), secret: '' } : { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) }
}

function tokenEndpoint(keys, issuer, req, body) {
  const form = new URLSearchParams(body)
  const grant = form.get('grant_type')
  const client = clientCredentials(req, form)
  const entry = { event: 'oidc-token', grant_type: grant, client_id: client.id }
  const answer = (status, json) => {
    log({ ...entry, status, ...(json.error ? { error: json.error, reason: json.error_description } : {}) })
    return [status, json]
  }
  if (client.id !== OIDC_CLIENT_ID || !sameSecret(client.secret, keys.clientSecret))
    return answer(401, { error: 'invalid_client', error_description: `unknown client or wrong secret for ${client.id}` })
  if (grant !== 'refresh_token')
    return answer(400, { error: 'unsupported_grant_type', error_description: 'only grant_type=refresh_token' })
  const checked = verifyHmacToken('tbr', form.get('refresh_token') ?? '', keys.hmacKey)
  entry.user = checked.claims?.u
  if (checked.error) return answer(400, { error: 'invalid_grant', error_description: `refresh token: ${checked.error}` })
  const { u, t, r } = checked.claims
  return answer(200, issueOidcTokens(keys, issuer, u, t ?? DEFAULT_OIDC_TTL, r ?? DEFAULT_REFRESH_TTL))
}

function tokenReview(keys, body) {
  const token = JSON.parse(body)?.spec?.token ?? ''
  const { claims, error } = verifyHmacToken('tbx', token, keys.hmacKey)
  const result = !error ? 'valid' : error === 'expired' ? 'expired' : 'invalid'
  log({ event: 'tokenreview', user: claims?.u ?? null, result, ...(result === 'invalid' ? { reason: error } : {}) })
  const status = error
    ? { authenticated: false, error: `testbed token ${error}` }
    : { authenticated: true, user: { username: claims.u, groups: Array.isArray(claims.g) ? claims.g : [] } }
  return [200, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', status }]
}

function serve({ port, dir, cert, key }) {
  const keys = loadKeys(dir)
  const base = `https://127.0.0.1:${port}`
  const oidcIssuer = `${base}/oidc`
  const ghaIssuer = `${base}/gha`
  const routes = {
    'GET /healthz': () => [200, 'ok'],
    'POST /tokenreview': (_req, body) => tokenReview(keys, body),
    'GET /oidc/.well-known/openid-configuration': () => [
      200,
      discovery(oidcIssuer, {
        token_endpoint: `${oidcIssuer}/token`,
        grant_types_supported: ['refresh_token'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'email', 'email_verified']
      })
    ],
    'GET /oidc/jwks': () => [200, keys.oidc.jwks],
    'POST /oidc/token': (req, body) => tokenEndpoint(keys, oidcIssuer, req, body),
    'GET /gha/.well-known/openid-configuration': () => [
      200,
      discovery(ghaIssuer, { claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'repository', 'environment', 'ref'] })
    ],
    'GET /gha/jwks': () => [200, keys.gha.jwks]
  }
  const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    const path = new URL(req.url ?? '/', base).pathname
    const route = routes[`${req.method} ${path}`]
    const chunks = []
    let size = 0
    req.on('data', chunk => {
      size += chunk.length
      if (size > MAX_BODY) req.destroy()
      else chunks.push(chunk)
    })
    req.on('end', () => {
      let status, payload
      try {
        ;[status, payload] = route
          ? route(req, Buffer.concat(chunks).toString('utf8'))
          : [404, { error: 'not_found', error_description: `no ${req.method} ${path} here` }]
      } catch (err) {
        log({ event: 'error', method: req.method, path, error: String(err) })
        ;[status, payload] = [500, { error: 'server_error', error_description: String(err) }]
      }
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload)
      res.writeHead(status, {
        'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json',
        // RFC 6749 5.1: token responses must not be cached.
        'cache-control': 'no-store'
      })
      res.end(text)
    })
  })
  server.listen(port, '127.0.0.1', () => log({ event: 'listening', url: base, oidc: oidcIssuer, gha: ghaIssuer }))
}

/** DIR and base URL for the mint commands, from .testbed/env. */
function mintContext() {
  const dir = process.env.TESTBED_AUTH_DIR
  const url = process.env.TESTBED_AUTH_URL
  if (!dir || !url) throw new Error('TESTBED_AUTH_DIR and TESTBED_AUTH_URL are not set: source .testbed/env first')
  return { keys: loadKeys(dir), url }
}

function wholeNumber(name, value, fallback) {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: '${value}' is not a whole number`)
  return n
}

function main(argv) {
  const [command, ...rest] = argv
  if (command === 'serve') {
    const { values } = parseArgs({
      args: rest,
      options: { port: { type: 'string' }, dir: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } }
    })
    const missing = ['port', 'dir', 'cert', 'key'].filter(k => !values[k])
    if (missing.length) throw new Error(`serve needs --${missing.join(', --')}`)
    serve({ ...values, port: wholeNumber('--port', values.port) })
  } else if (command === 'mint-oidc') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { ttl: { type: 'string' }, 'refresh-ttl': { type: 'string' } }
    })
    if (positionals.length !== 1) throw new Error('usage: authd.mjs mint-oidc USER [--ttl=S] [--refresh-ttl=S]')
    const { keys, url } = mintContext()
    const ttl = wholeNumber('--ttl', values.ttl ?? process.env.TB_OIDC_TTL, DEFAULT_OIDC_TTL)
    const refreshTtl = wholeNumber('--refresh-ttl', values['refresh-ttl'], DEFAULT_REFRESH_TTL)
    const tokens = issueOidcTokens(keys, `${url}/oidc`, positionals[0], ttl, refreshTtl)
    process.stdout.write(`${JSON.stringify({ ...tokens, issuer: `${url}/oidc`, client_id: OIDC_CLIENT_ID })}\n`)
  } else if (command === 'mint-gha') {
    const { values } = parseArgs({
      args: rest,
      options: {
        repository: { type: 'string' },
        environment: { type: 'string' },
        ref: { type: 'string', default: 'refs/heads/main' },
        aud: { type: 'string' },
        ttl: { type: 'string' }
      }
    })
    if (!values.repository?.includes('/') || !values.environment || !values.aud)
      throw new Error('usage: authd.mjs mint-gha --repository=OWNER/REPO --environment=ENV --aud=AUD [--ref=REF] [--ttl=S]')
    const { keys, url } = mintContext()
    process.stdout.write(`${ghaToken(keys, `${url}/gha`, { ...values, ttl: wholeNumber('--ttl', values.ttl, 60) })}\n`)
  } else {
    throw new Error(`usage: authd.mjs serve|mint-oidc|mint-gha ... (got '${command ?? ''}')`)
  }
}

try {
  main(process.argv.slice(2))
} catch (err) {
  process.stderr.write(`authd.mjs: ${err.message}\n`)
  process.exit(2)
}
