#!/usr/bin/env node
// A client-go exec credential plugin whose tokens the test bed's token webhook (authd.mjs) accepts.
//
//   exec-plugin.mjs [--user=NAME] [--group=GROUP]... [--key=FILE]
//
// Environment: TESTBED_AUTH_KEY (the HMAC key file, when --key is absent), TB_EXEC_USER (when --user is
// absent; default exec-deployer), TB_TOKEN_TTL (token lifetime in seconds, default 5), TB_EXEC_LOG (a file
// that gets one JSON line per run, so a test can count runs), TB_EXEC_FAIL=1 (print an error, exit 1).
// KUBERNETES_EXEC_INFO (set by client-go) chooses the ExecCredential apiVersion; default v1.
import { appendFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { mintWebhookToken, readHmacKey } from './tokens.mjs'

function run() {
  const { values } = parseArgs({
    options: { user: { type: 'string' }, group: { type: 'string', multiple: true }, key: { type: 'string' } }
  })
  const info = process.env.KUBERNETES_EXEC_INFO ? JSON.parse(process.env.KUBERNETES_EXEC_INFO) : {}
  const apiVersion = info.apiVersion || 'client.authentication.k8s.io/v1'
  const user = values.user || process.env.TB_EXEC_USER || 'exec-deployer'
  const fail = process.env.TB_EXEC_FAIL === '1'
  if (process.env.TB_EXEC_LOG) {
    const line = { time: new Date().toISOString(), user, apiVersion, interactive: info.spec?.interactive ?? null, fail }
    appendFileSync(process.env.TB_EXEC_LOG, `${JSON.stringify(line)}\n`)
  }
  if (fail) throw new Error('TB_EXEC_FAIL=1: the test bed exec plugin was told to fail')
  const keyFile = values.key || process.env.TESTBED_AUTH_KEY
  if (!keyFile) throw new Error('no key file: pass --key=FILE or set TESTBED_AUTH_KEY (see .testbed/env)')
  const ttl = Number(process.env.TB_TOKEN_TTL || 5)
  if (!Number.isInteger(ttl) || ttl < 1) throw new Error(`TB_TOKEN_TTL: '${process.env.TB_TOKEN_TTL}' is not a whole number of seconds >= 1`)
  const { token, exp } = mintWebhookToken(user, values.group ?? [], ttl, readHmacKey(keyFile))
  // Whole seconds: RFC 3339 as client-go's metav1.Time writes it.
  const expirationTimestamp = new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
  process.stdout.write(`${JSON.stringify({ apiVersion, kind: 'ExecCredential', status: { token, expirationTimestamp } })}\n`)
}

try {
  run()
} catch (err) {
  process.stderr.write(`testbed exec plugin: ${err.message}\n`)
  process.exit(1)
}
