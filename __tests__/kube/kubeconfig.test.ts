import { jest } from '@jest/globals'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { impersonationHeaders, selectConfig } from '../../src/kube/kubeconfig.js'

const KEY_PEM =
  '-----BEGIN EC PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbC1saW5lLW9uZQ==\n-----END EC PRIVATE KEY-----\n'
const KEY = Buffer.from(KEY_PEM).toString('base64')
const config = (extra = '') => `apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: ${Buffer.from('CA').toString('base64')}
users:
- name: token-user
  user:
    token: abcdefghijklmnop-token
- name: cert-user
  user:
    client-certificate-data: ${Buffer.from('CERT').toString('base64')}
    client-key-data: ${KEY}
contexts:
- name: a
  context: {cluster: c1, user: token-user, namespace: apps}
- name: b
  context: {cluster: c1, user: cert-user}
current-context: a
${extra}`

const noHome = { HOME: '/nonexistent-home' }

describe('selectConfig', () => {
  let out: string
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(((s: string) => {
    out += s
    return true
  }) as never)
  beforeEach(() => (out = ''))
  afterAll(() => write.mockRestore())
  const masks = () =>
    out
      .split('\n')
      .filter(l => l.startsWith('::add-mask::'))
      .map(l => l.slice(12))

  it('uses the current context of kubeconfig content and masks its credentials, not its lines', () => {
    const c = selectConfig({ kubeconfig: config(), env: noHome })
    expect(c).toMatchObject({ namespace: 'apps', userName: 'token-user', authentication: { kind: 'static' } })
    expect(c.cluster.server).toBe('https://127.0.0.1:6443')
    expect(masks()).toContain('abcdefghijklmnop-token')
    // The key is masked encoded, decoded and by its body line; the PEM armour lines are not.
    const pemAsSent = KEY_PEM.replace(/\n/g, '%0A') // the workflow command's escaping
    expect(masks()).toEqual(
      expect.arrayContaining([KEY, pemAsSent, 'c2VjcmV0LWtleS1tYXRlcmlhbC1saW5lLW9uZQ=='])
    )
    expect(masks()).not.toContain('-----BEGIN EC PRIVATE KEY-----')
    for (const line of ['apiVersion: v1', 'kind: Config', 'clusters:', 'current-context: a'])
      expect(masks()).not.toContain(line)
  })

  it('switches context on request and rejects an unknown one, listing those available', () => {
    expect(selectConfig({ kubeconfig: config(), context: 'b', env: noHome })).toMatchObject({
      userName: 'cert-user',
      namespace: 'default'
    })
    expect(() => selectConfig({ kubeconfig: config(), context: 'zz', env: noHome })).toThrow(
      /context "zz" is not in the kubeconfig input/
    )
  })

  it('merges KUBECONFIG files as kubectl does: the first to set a name or current-context wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'))
    writeFileSync(join(dir, 'one'), config().replace('current-context: a', 'current-context: b'))
    writeFileSync(
      join(dir, 'two'),
      config().replace('token: abcdefghijklmnop-token', 'token: other-token-value')
    )
    const c = selectConfig({
      env: { KUBECONFIG: `${join(dir, 'missing')}:${join(dir, 'one')}:${join(dir, 'two')}` }
    })
    expect(c.userName).toBe('cert-user')
    const a = selectConfig({ context: 'a', env: { KUBECONFIG: `${join(dir, 'one')}:${join(dir, 'two')}` } })
    expect(a.user.token).toBe('abcdefghijklmnop-token')
  })

  it('reads ~/.kube/config when KUBECONFIG is not set, with paths relative to its folder', () => {
    const home = mkdtempSync(join(tmpdir(), 'home-'))
    mkdirSync(join(home, '.kube'))
    writeFileSync(
      join(home, '.kube', 'config'),
      config()
        .replace('users:\n', 'users:\n- name: file-user\n  user: {tokenFile: token}\n')
        .replace('user: token-user, namespace: apps', 'user: file-user, namespace: apps')
    )
    const c = selectConfig({ env: { HOME: home } })
    expect(c.origin).toBe(join(home, '.kube', 'config'))
    expect(c.authentication).toEqual({ kind: 'token-file', path: join(home, '.kube', 'token') })
  })

  it('falls back to the in-cluster service account, its token file read by path', () => {
    const sa = mkdtempSync(join(tmpdir(), 'sa-'))
    writeFileSync(join(sa, 'token'), 'sa-token')
    writeFileSync(join(sa, 'ca.crt'), 'CA')
    writeFileSync(join(sa, 'namespace'), 'ci\n')
    const c = selectConfig({
      env: { HOME: '/nonexistent-home', KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir: sa
    })
    expect(c).toMatchObject({
      namespace: 'ci',
      cluster: { server: 'https://[fd00::1]:443', 'certificate-authority': join(sa, 'ca.crt') },
      authentication: { kind: 'token-file', path: join(sa, 'token') }
    })
  })

  it('takes exec plugins as client-go does: relative paths from the folder, v1 needs interactiveMode', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'))
    const exec = (body: string) =>
      config().replace('  user:\n    token: abcdefghijklmnop-token', `  user:\n    exec:\n${body}`)
    writeFileSync(
      join(dir, 'kc'),
      exec(`      apiVersion: client.authentication.k8s.io/v1beta1
      command: ./bin/get-token
      args: [--cluster, c1]
      env: [{name: AWS_PROFILE, value: ci}]
      installHint: install get-token
      provideClusterInfo: true`)
    )
    const c = selectConfig({ env: { KUBECONFIG: join(dir, 'kc') } })
    expect(c.authentication).toEqual({
      kind: 'exec',
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        command: join(dir, 'bin/get-token'),
        args: ['--cluster', 'c1'],
        env: [{ name: 'AWS_PROFILE', value: 'ci' }],
        installHint: 'install get-token',
        provideClusterInfo: true,
        interactiveMode: 'IfAvailable'
      }
    })
    // A bare command name is looked up on PATH, not in the folder.
    writeFileSync(
      join(dir, 'kc2'),
      exec('      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws')
    )
    expect(selectConfig({ env: { KUBECONFIG: join(dir, 'kc2') } }).authentication).toMatchObject({
      exec: { command: 'aws' }
    })
    writeFileSync(
      join(dir, 'kc3'),
      exec('      apiVersion: client.authentication.k8s.io/v1\n      command: aws')
    )
    expect(() => selectConfig({ env: { KUBECONFIG: join(dir, 'kc3') } })).toThrow(/must set interactiveMode/)
    writeFileSync(
      join(dir, 'kc4'),
      exec('      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws')
    )
    expect(() => selectConfig({ env: { KUBECONFIG: join(dir, 'kc4') } })).toThrow(/v1alpha1.*not supported/)
  })

  it('uses a client certificate over an exec plugin, as client-go does', () => {
    const kc = config().replace(
      '    client-key-data:',
      '    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws}\n    client-key-data:'
    )
    expect(selectConfig({ kubeconfig: kc, context: 'b', env: noHome }).authentication).toEqual({
      kind: 'static'
    })
  })

  it('honours every impersonation field and refuses groups without a user', () => {
    const kc = config().replace(
      '    token: abcdefghijklmnop-token',
      '    token: abcdefghijklmnop-token\n    as: deployer\n    as-uid: "42"\n    as-groups: [ci, deployers]\n    as-user-extra: {scopes: [read, write]}'
    )
    const c = selectConfig({ kubeconfig: kc, env: noHome })
    expect(impersonationHeaders(c.impersonation)).toEqual({
      'Impersonate-User': 'deployer',
      'Impersonate-Uid': '42',
      'Impersonate-Group': ['ci', 'deployers'],
      'Impersonate-Extra-scopes': ['read', 'write']
    })
    const noUser = config().replace('    token: abcdefghijklmnop-token', '    token: x\n    as-groups: [ci]')
    expect(() => selectConfig({ kubeconfig: noUser, env: noHome })).toThrow(/as-groups.*without as/)
  })

  it('refuses what it cannot honour, naming the entry', () => {
    const insecure = config().replace(
      '    server: https',
      '    insecure-skip-tls-verify: true\n    server: https'
    )
    expect(() => selectConfig({ kubeconfig: insecure, env: noHome })).toThrow(
      /cluster c1 of the kubeconfig input sets insecure-skip-tls-verify together with a certificate authority/
    )
    const gcp = config().replace('    token: abcdefghijklmnop-token', '    auth-provider: {name: gcp}')
    expect(() => selectConfig({ kubeconfig: gcp, env: noHome })).toThrow(/gcp auth-provider.*removed/)
    const ftp = config().replace('    server: https', '    proxy-url: ftp://proxy:21\n    server: https')
    expect(() => selectConfig({ kubeconfig: ftp, env: noHome })).toThrow(
      /proxy-url .* must be http, https or socks5/
    )
    const socks = config().replace(
      '    server: https',
      '    proxy-url: socks5://127.0.0.1:1080\n    server: https'
    )
    expect(selectConfig({ kubeconfig: socks, env: noHome }).cluster['proxy-url']).toBe(
      'socks5://127.0.0.1:1080'
    )
  })

  it('masks OIDC tokens and secrets of an auth-provider', () => {
    const kc = config().replace(
      '    token: abcdefghijklmnop-token',
      '    auth-provider:\n      name: oidc\n      config: {id-token: the-id-token-value, refresh-token: the-refresh-token, client-secret: the-client-secret, client-id: cli}'
    )
    expect(selectConfig({ kubeconfig: kc, env: noHome }).authentication).toEqual({ kind: 'oidc' })
    expect(masks()).toEqual(
      expect.arrayContaining(['the-id-token-value', 'the-refresh-token', 'the-client-secret'])
    )
    expect(masks()).not.toContain('cli')
  })

  it('says what is missing, never quoting the content', () => {
    expect(() => selectConfig({ env: noHome, serviceAccountDir: '/nonexistent' })).toThrow(
      /No Kubernetes credentials/
    )
    expect(() => selectConfig({ kubeconfig: 'token: [abcdefghijkl', env: noHome })).toThrow(
      /^the kubeconfig input is not valid YAML \(line 1\)$/
    )
    expect(() => selectConfig({ env: { KUBECONFIG: '/nonexistent/kc' } })).toThrow(/none of them exists/)
  })
})
