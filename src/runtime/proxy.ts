/**
 * Which proxy a request goes through, as Go's net/http (and so kubectl) chooses it: the
 * HTTPS_PROXY/HTTP_PROXY variables with NO_PROXY (proxy-from-env reads them), except that
 * localhost and loopback addresses are never proxied.
 */
import { isIP } from 'node:net'
import { getProxyForUrl } from 'proxy-from-env'

export function environmentProxy(target: URL | string): URL | undefined {
  const url = typeof target === 'string' ? new URL(target) : target
  if (isLoopbackHost(url.hostname)) return undefined
  const proxy = getProxyForUrl(url.href)
  return proxy ? new URL(proxy) : undefined
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1'
  return false
}

/**
 * `fetch` through the environment's proxy when one applies (undici's ProxyAgent, loaded only
 * then: most runs have no proxy and should not pay for loading it).
 */
export async function proxiedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const proxy = environmentProxy(url)
  if (!proxy) return fetch(url, init)
  const undici = await import('undici')
  return (await undici.fetch(url, {
    ...(init as Record<string, unknown>),
    dispatcher: new undici.ProxyAgent(proxy.href)
  })) as unknown as Response
}
