import { jest } from '@jest/globals'
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import type { RequestOptions } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { User } from '@kubernetes/client-node/dist/config_types.js'
import {
  ExecCredentials,
  GitHubOidcCredentials,
  parseExecCredential,
  TokenFileCredentials
} from '../../src/kube/credentials.js'
import type { ExecConfig } from '../../src/kube/kubeconfig.js'
import { childEnv } from '../../src/runtime/child-env.js'

const V1 = 'client.authentication.k8s.io/v1'
const user = { name: 'u' } as User

/** A real plugin: a shell script that counts its runs and prints a token valid for TTL seconds. */
function plugin(dir: string, ttlSeconds: number, extra = ''): ExecConfig {
  const path = join(dir, 'plugin.sh')
  writeFileSync(
    path,
    `#!/bin/sh
${extra}
n=$(($(cat "${dir}/runs" 2>/dev/null || echo 0) + 1)); echo $n > "${dir}/runs"
env > "${dir}/env.$n"
exp=$(date -u -d "@$(( $(date +%s) + ${ttlSeconds} ))" +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"token-%s","expirationTimestamp":"%s"}}' \\
  "$(echo "$KUBERNETES_EXEC_INFO" | sed 's/.*"apiVersion":"\\([^"]*\\)".*/\\1/')" "$n" "$exp"
`
  )
  chmodSync(path, 0o755)
  return {
    apiVersion: V1,
    command: path,
    args: [],
    env: [{ name: 'PLUGIN_SETTING', value: 'from-kubeconfig' }],
    provideClusterInfo: true,
    interactiveMode: 'Never'
  }
}

async function bearer(source: { applyAuthentication(u: User, o: RequestOptions): Promise<void> }) {
  const opts: RequestOptions = { headers: {} }
  await source.applyAuthentication(user, opts)
  return (opts.headers as Record<string, string>).Authorization
}

describe('ExecCredentials runs a real credential plugin', () => {
  let out = ''
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(((s: string) => {
    out += s
    return true
  }) as never)
  afterAll(() => write.mockRestore())

  it('runs once per token lifetime, shared by concurrent requests, and again after it expires', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-'))
    const creds = new ExecCredentials(plugin(dir, 3), 'u', { server: 'https://127.0.0.1:6443' })
    const first = await Promise.all([bearer(creds), bearer(creds), bearer(creds)])
    expect(first).toEqual(['Bearer token-1', 'Bearer token-1', 'Bearer token-1'])
    expect(creds.runs).toBe(1)
    expect(out).toContain('::add-mask::token-1')
    await new Promise(r => setTimeout(r, 3100))
    expect(await bearer(creds)).toBe('Bearer token-2')
    expect(creds.runs).toBe(2)
  })

  it('runs again after a 401 (invalidate) even before the expiry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-'))
    const creds = new ExecCredentials(plugin(dir, 600), 'u', undefined)
    expect(await bearer(creds)).toBe('Bearer token-1')
    expect(await bearer(creds)).toBe('Bearer token-1')
    expect(creds.invalidate()).toBe(true)
    expect(await bearer(creds)).toBe('Bearer token-2')
  })

  it('gives the plugin its env and the cluster, never the inputs or the runner’s tokens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-'))
    const env = {
      PATH: process.env.PATH,
      HOME: '/home/runner',
      INPUT_PASSWORD: 'registry-password',
      INPUT_KUBECONFIG: 'whole kubeconfig',
      ACTIONS_RUNTIME_TOKEN: 'runtime-token',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-request-token',
      GITHUB_TOKEN: 'ghs_token',
      AWS_PROFILE: 'ci'
    }
    const creds = new ExecCredentials(plugin(dir, 600), 'u', { server: 'https://api.example:6443' }, env)
    await bearer(creds)
    const seen = readFileSync(join(dir, 'env.1'), 'utf8')
    expect(seen).toContain('AWS_PROFILE=ci')
    expect(seen).toContain('PLUGIN_SETTING=from-kubeconfig')
    for (const secret of [
      'registry-password',
      'whole kubeconfig',
      'runtime-token',
      'oidc-request-token',
      'ghs_token'
    ])
      expect(seen).not.toContain(secret)
    const info = JSON.parse(/KUBERNETES_EXEC_INFO=(.*)/.exec(seen)![1]!) as { spec: unknown }
    expect(info).toEqual({
      apiVersion: V1,
      kind: 'ExecCredential',
      spec: { interactive: false, cluster: { server: 'https://api.example:6443' } }
    })
  })

  it('reports a failing plugin with its stderr, and a missing one with its install hint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-'))
    const failing = new ExecCredentials(
      plugin(dir, 600, 'echo "the SSO session has expired; run aws sso login" >&2; exit 3'),
      'eks-user',
      undefined
    )
    await expect(bearer(failing)).rejects.toThrow(
      /exec credential plugin of user eks-user .* failed \(exit code 3\): the SSO session has expired/
    )
    const missing = new ExecCredentials(
      { ...plugin(dir, 1), command: 'no-such-plugin-here', installHint: 'Install it with: brew install it' },
      'u',
      undefined
    )
    await expect(bearer(missing)).rejects.toMatchObject({
      message: expect.stringMatching(/could not be started: ENOENT/),
      hint: 'Install it with: brew install it'
    })
  })
})

describe('parseExecCredential checks the answer as client-go does', () => {
  const answer = (status: object, apiVersion = V1) =>
    JSON.stringify({ apiVersion, kind: 'ExecCredential', status })
  it.each([
    ['not JSON', 'token: x', /not JSON/],
    ['another apiVersion', answer({ token: 't' }, 'client.authentication.k8s.io/v1beta1'), /does not match/],
    ['no credential', answer({}), /neither a token nor a client certificate/],
    ['a key without its certificate', answer({ token: 't', clientKeyData: 'k' }), /without its certificate/],
    ['a bad expiry', answer({ token: 't', expirationTimestamp: 'soon' }), /not a time/]
  ])('refuses %s', (_, text, error) => {
    expect(() => parseExecCredential(text, V1)).toThrow(error)
  })
  it('reads a token with its expiry, and a client certificate pair', () => {
    expect(
      parseExecCredential(answer({ token: 't', expirationTimestamp: '2030-01-01T00:00:00Z' }), V1)
    ).toEqual({
      token: 't',
      cert: undefined,
      key: undefined,
      expiresAt: Date.parse('2030-01-01T00:00:00Z')
    })
    expect(parseExecCredential(answer({ clientCertificateData: 'C', clientKeyData: 'K' }), V1)).toMatchObject(
      {
        cert: 'C',
        key: 'K',
        expiresAt: undefined
      }
    )
  })
})

describe('TokenFileCredentials', () => {
  it('reads the file again after its period and at once after a 401', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tok-'))
    const file = join(dir, 'token')
    writeFileSync(file, 'first\n')
    const creds = new TokenFileCredentials(file, 200)
    expect(await bearer(creds)).toBe('Bearer first')
    writeFileSync(file, 'second')
    expect(await bearer(creds)).toBe('Bearer first')
    creds.invalidate()
    expect(await bearer(creds)).toBe('Bearer second')
    writeFileSync(file, 'third')
    await new Promise(r => setTimeout(r, 250))
    expect(await bearer(creds)).toBe('Bearer third')
    expect(creds.reads).toBe(3)
  })
  it('names a missing file', async () => {
    await expect(bearer(new TokenFileCredentials('/nonexistent/token'))).rejects.toThrow(
      /token file \/nonexistent\/token cannot be read: ENOENT/
    )
  })
})

describe('childEnv', () => {
  it('drops INPUT_* and the runner’s credentials, keeping what is asked for by name', () => {
    const env = childEnv(
      {
        PATH: '/bin',
        INPUT_GITHUB_TOKEN: 't',
        'INPUT_GITHUB-TOKEN': 't',
        ACTIONS_RUNTIME_TOKEN: 'r',
        GITHUB_TOKEN: 'g'
      },
      { keep: ['ACTIONS_RUNTIME_TOKEN'], add: { EXTRA: '1' } }
    )
    expect(env).toEqual({ PATH: '/bin', ACTIONS_RUNTIME_TOKEN: 'r', EXTRA: '1' })
  })
})

describe('GitHubOidcCredentials', () => {
  const jwt = (expSeconds: number) =>
    `e30.${Buffer.from(JSON.stringify({ exp: expSeconds })).toString('base64url')}.sig`

  it('asks for a token once, again when a quarter of its lifetime (at most a minute) is left, and after a 401', async () => {
    const asked: string[] = []
    let lifetime = 8
    let exp = 0
    const source = new GitHubOidcCredentials('sts.amazonaws.com', async audience => {
      asked.push(audience)
      exp = Math.floor(Date.now() / 1000) + lifetime
      return jwt(exp)
    })
    const opts: { headers?: Record<string, string> } = {}
    await source.applyAuthentication({} as never, opts as never)
    await source.applyAuthentication({} as never, opts as never)
    expect(asked).toEqual(['sts.amazonaws.com'])
    expect(opts.headers!.Authorization).toMatch(/^Bearer e30\./)
    // 7 to 8 s of life (exp is in whole seconds): asked for again a quarter of it before exp.
    const early = exp * 1000 - source.refreshAt()
    expect(early).toBeGreaterThanOrEqual(1_750 - 50)
    expect(early).toBeLessThanOrEqual(2_000)
    // A 10-minute token is asked for again exactly a minute before its exp.
    lifetime = 600
    expect(source.invalidate()).toBe(true)
    await source.applyAuthentication({} as never, opts as never)
    expect(asked).toHaveLength(2)
    expect(source.refreshAt()).toBe(exp * 1000 - 60_000)
    expect(source.description).toBe('GitHub Actions OIDC token (audience sts.amazonaws.com)')
  })

  it('says to grant id-token: write when the runner gives no token', async () => {
    const source = new GitHubOidcCredentials('aud', () =>
      Promise.reject(new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable'))
    )
    await expect(source.applyAuthentication({} as never, {} as never)).rejects.toThrow(
      /the job's OIDC token for audience aud could not be had: Unable to get ACTIONS_ID_TOKEN_REQUEST_URL/
    )
  })
})
