declare module 'proxy-from-env' {
  /** The proxy URL for `url` from process.env's HTTP(S)_PROXY, ALL_PROXY and NO_PROXY, or ''. */
  export function getProxyForUrl(url: string | URL): string
}
