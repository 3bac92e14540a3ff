import { jest } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadCredentials } from '../../src/kube/kubeconfig.js'

const KEY = Buffer.from(
  '-----BEGIN EC PRIVATE KEY-----\nsecret-key-material\n-----END EC PRIVATE KEY-----\n'
).toString('base64')
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

describe('loadCredentials', () => {
  let out: string
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(((s: string) => {
    out += s
    return true
  }) as never)
  beforeEach(() => (out = ''))
  afterAll(() => write.mockRestore())

  it('uses the current context of kubeconfig content, masking the token first', () => {
    const c = loadCredentials({ kubeconfig: config(), env: {} })
    expect(c).toMatchObject({
      token: 'abcdefghijklmnop-token',
      namespace: 'apps',
      user: 'token-user',
      insecure: false
    })
    expect(c.server.href).toBe('https://127.0.0.1:6443/')
    expect(c.ca?.toString()).toBe('CA')
    expect(out).toContain('::add-mask::abcdefghijklmnop-token')
    // The key is masked encoded and decoded, line by line.
    expect(out).toContain(`::add-mask::${KEY}`)
    expect(out).toContain('::add-mask::secret-key-material')
  })

  it('switches context on request and rejects an unknown one, listing those available', () => {
    expect(loadCredentials({ kubeconfig: config(), context: 'b', env: {} })).toMatchObject({
      user: 'cert-user',
      namespace: 'default'
    })
    expect(() => loadCredentials({ kubeconfig: config(), context: 'zz', env: {} })).toThrow(
      /context "zz" is not in the kubeconfig input/
    )
  })

  it('merges KUBECONFIG files, the first one winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'))
    writeFileSync(join(dir, 'one'), config().replace('current-context: a', 'current-context: b'))
    writeFileSync(join(dir, 'two'), config())
    const c = loadCredentials({
      env: { KUBECONFIG: `${join(dir, 'missing')}:${join(dir, 'one')}:${join(dir, 'two')}` }
    })
    expect(c.user).toBe('cert-user')
    expect(c.key?.toString()).toMatch(/secret-key-material/)
  })

  it('says what is missing, never quoting the content', () => {
    expect(() => loadCredentials({ env: {} })).toThrow(/No Kubernetes credentials/)
    expect(() => loadCredentials({ kubeconfig: 'token: [abcdefghijkl', env: {} })).toThrow(
      /^the kubeconfig input is not valid YAML \(line 1\)$/
    )
    expect(() => loadCredentials({ env: { KUBECONFIG: '/nonexistent/kc' } })).toThrow(/none of them exists/)
  })
})
