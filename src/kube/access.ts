/**
 * Access to one API server through @kubernetes/client-node: the checked context (kubeconfig.ts)
 * becomes the library's KubeConfig, which supplies TLS, client certificates, basic auth and the
 * proxy agent (http, https, socks5) of every request; credentials that expire (exec plugins, token
 * files, OIDC) come from credentials.ts. The library is loaded only here, when the action connects: it is most of the
 * bundle, and an input error should not wait for it.
 */
import { getIDToken } from '@actions/core'
import type { RequestOptions } from 'node:https'
import { environmentProxy } from '../runtime/index.js'
import type { CredentialSource, ExecClusterInfo } from './credentials.js'
import {
  ExecCredentials,
  GitHubOidcCredentials,
  OidcCredentials,
  REFRESHED_PROVIDER,
  TokenFileCredentials
} from './credentials.js'
import type { SelectedConfig } from './kubeconfig.js'
import { impersonationHeaders } from './kubeconfig.js'

export interface KubeAccess {
  server: URL
  namespace: string
  user: string
  origin: string
  /** How requests authenticate and travel, for the log: "exec plugin aws (v1beta1), via proxy ...". */
  description: string
  /** TLS material, agent and headers of one request, evaluated per request so credentials renew. */
  requestOptions(): Promise<RequestOptions>
  /** After a 401: drop the credential so the next request fetches a new one; false if it cannot. */
  invalidate(): boolean
  close(): void
}

export async function connectAccess(selected: SelectedConfig, oidcAudience?: string): Promise<KubeAccess> {
  const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js')
  const server = new URL(selected.cluster.server)
  const cluster: Record<string, unknown> = { ...selected.cluster }
  // No proxy-url: the proxy of the environment, chosen as Go's net/http chooses it.
  const envProxy = cluster['proxy-url'] ? undefined : environmentProxy(server)
  if (envProxy) cluster['proxy-url'] = envProxy.href
  // The library refuses http servers unless TLS checks are off; for http there is nothing to check.
  if (server.protocol === 'http:') cluster['insecure-skip-tls-verify'] = true

  const source = oidcAudience
    ? new GitHubOidcCredentials(oidcAudience, getIDToken)
    : credentialSource(selected)
  // With the job's OIDC token, the kubeconfig names the cluster only: none of its user's credentials is sent.
  const user: Record<string, unknown> = oidcAudience ? {} : { ...selected.user }
  // Impersonation headers are set here, all of them (the library knows only `as`).
  delete user.as
  delete user.tokenFile
  if (source) {
    delete user.exec
    user['auth-provider'] = { name: REFRESHED_PROVIDER, config: {} }
  }
  const kc = new KubeConfig()
  kc.loadFromString(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: selected.clusterName, cluster }],
      users: [{ name: selected.userName, user }],
      contexts: [
        { name: selected.contextName, context: { cluster: selected.clusterName, user: selected.userName } }
      ],
      'current-context': selected.contextName
    })
  )
  if (source) kc.addAuthenticator(source)
  const extraHeaders = impersonationHeaders(selected.impersonation)
  const agents = new Set<{ destroy?: () => void }>()

  const proxy = cluster['proxy-url'] as string | undefined
  const description = [
    source?.description ?? staticDescription(selected.user),
    selected.impersonation ? `impersonating ${selected.impersonation.user}` : '',
    proxy ? `via proxy ${redactUrl(proxy)}${envProxy ? ' (from the environment)' : ''}` : ''
  ]
    .filter(Boolean)
    .join(', ')

  return {
    server,
    namespace: selected.namespace,
    user: selected.impersonation
      ? `${selected.userName} as ${selected.impersonation.user}`
      : selected.userName,
    origin: selected.origin,
    description,
    async requestOptions() {
      const opts: RequestOptions = { headers: {} }
      await kc.applyToHTTPSOptions(opts)
      opts.headers = { ...(opts.headers ?? {}), ...extraHeaders }
      if (opts.agent) agents.add(opts.agent as { destroy?: () => void })
      return opts
    },
    invalidate: () => source?.invalidate() ?? false,
    close() {
      for (const a of agents) a.destroy?.()
    }
  }
}

function credentialSource(selected: SelectedConfig): CredentialSource | undefined {
  const auth = selected.authentication
  switch (auth.kind) {
    case 'exec':
      return new ExecCredentials(auth.exec, selected.userName, execClusterInfo(selected))
    case 'token-file':
      return new TokenFileCredentials(auth.path)
    case 'oidc': {
      const provider = selected.user['auth-provider'] as { config?: Record<string, string> }
      return new OidcCredentials({ ...(provider.config ?? {}) }, selected.userName)
    }
    default:
      return undefined
  }
}

function execClusterInfo(selected: SelectedConfig): ExecClusterInfo {
  const c = selected.cluster
  const info: ExecClusterInfo = { server: c.server }
  if (typeof c['certificate-authority-data'] === 'string')
    info['certificate-authority-data'] = c['certificate-authority-data']
  if (typeof c['tls-server-name'] === 'string') info['tls-server-name'] = c['tls-server-name']
  if (c['insecure-skip-tls-verify'] === true) info['insecure-skip-tls-verify'] = true
  if (typeof c['proxy-url'] === 'string') info['proxy-url'] = c['proxy-url']
  if (selected.execExtension !== undefined) info.config = selected.execExtension
  return info
}

function staticDescription(user: Record<string, unknown>): string {
  if (user.token) return 'bearer token'
  if (user.username) return 'basic auth'
  if (user['client-certificate'] || user['client-certificate-data']) return 'client certificate'
  return 'no credentials'
}

/** A proxy URL without its password, for the log. */
function redactUrl(url: string): string {
  const u = new URL(url)
  if (u.password) u.password = '***'
  return u.href
}
