// Tokens of the test bed's authentication stand-ins, shared by authd.mjs (which verifies and issues them)
// and exec-plugin.mjs (which mints them). Node builtins only.
//
//   webhook token   tbx.<base64url(JSON {u, g, exp})>.<base64url(HMAC-SHA256(key, "tbx.<payload>"))>
//   refresh token   tbr.<base64url(JSON {u, exp, t, n})>.<HMAC as above over "tbr.<payload>">
//   id token        an RS256 JWT signed with the issuer's RSA key (its public half is served as JWKS)
import { createHash, createHmac, createPrivateKey, createPublicKey, randomUUID, sign, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'

const b64url = data => Buffer.from(data).toString('base64url')
const nowSeconds = () => Math.floor(Date.now() / 1000)

/** The HMAC key: the file's content without surrounding white space. */
export function readHmacKey(file) {
  const key = readFileSync(file, 'utf8').trim()
  if (!key) throw new Error(`${file} is empty`)
  return key
}

/** A signed token `PREFIX.payload.mac`; the prefix is signed too, so one kind never passes for another. */
export function signHmacToken(prefix, claims, key) {
  const body = `${prefix}.${b64url(JSON.stringify(claims))}`
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`
}

/**
 * Checks a `PREFIX.payload.mac` token. Returns `{ claims }` when the signature is right and `exp` is
 * in the future, else `{ error, claims? }` (claims only when the signature was right: "expired").
 */
export function verifyHmacToken(prefix, token, key) {
  const parts = String(token).split('.')
  if (parts.length !== 3 || parts[0] !== prefix) return { error: `not a ${prefix} token` }
  const expected = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest()
  const got = Buffer.from(parts[2], 'base64url')
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return { error: 'bad signature' }
  let claims
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
  } catch {
    return { error: 'unreadable payload' }
  }
  if (typeof claims.u !== 'string' || !claims.u || typeof claims.exp !== 'number') return { error: 'malformed claims' }
  if (claims.exp <= nowSeconds()) return { error: 'expired', claims }
  return { claims }
}

/** A webhook token for USER and GROUPS valid for TTL seconds, and its expiry (unix seconds). */
export function mintWebhookToken(user, groups, ttlSeconds, key) {
  const exp = nowSeconds() + ttlSeconds
  return { token: signHmacToken('tbx', { u: user, g: groups, exp }, key), exp }
}

/** An RS256 signer for one issuer: its private key file, its JWKS and a `sign(claims)` function. */
export function rsaSigner(keyFile) {
  const privateKey = createPrivateKey(readFileSync(keyFile))
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' })
  // RFC 7638 thumbprint: a stable kid, so a restart of authd keeps the API server's cached keys valid.
  const kid = createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url')
  return {
    jwks: { keys: [{ ...jwk, kid, use: 'sig', alg: 'RS256' }] },
    sign(claims) {
      const data = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))}.${b64url(JSON.stringify(claims))}`
      return `${data}.${sign('sha256', Buffer.from(data), privateKey).toString('base64url')}`
    }
  }
}

/** Standard claims of a JWT from ISSUER for AUDIENCE, valid for TTL seconds from now. */
export function jwtClaims(issuer, audience, ttlSeconds, extra) {
  const iat = nowSeconds()
  return { iss: issuer, aud: audience, iat, nbf: iat, exp: iat + ttlSeconds, jti: randomUUID(), ...extra }
}
