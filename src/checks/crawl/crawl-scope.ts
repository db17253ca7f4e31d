/** Which links a crawl may fetch, relative to its root URL. */
export type CrawlScope = 'sameOrigin' | 'samePathPrefix';

/**
 * A predicate for "may this URL be fetched": same scheme, host and port as the root, and
 * with `samePathPrefix` also under the root's directory. The directory of `/docs/` or
 * `/docs` is `/docs/` (a last segment without a dot reads as a directory, which is what
 * people mean by "crawl /docs"); the directory of `/docs/index.html` is `/docs/`.
 */
export function crawlScope(root: URL, scope: CrawlScope): (url: URL) => boolean {
  const origin = root.origin;
  if (scope === 'sameOrigin') return (url) => url.origin === origin;
  const prefix = pathPrefix(root.pathname);
  const exact = prefix.slice(0, -1);
  return (url) => url.origin === origin && (url.pathname.startsWith(prefix) || url.pathname === exact);
}

/** The directory a `samePathPrefix` crawl stays in, always ending in `/`. */
export function pathPrefix(pathname: string): string {
  if (pathname.endsWith('/')) return pathname;
  const lastSegment = pathname.slice(pathname.lastIndexOf('/') + 1);
  return lastSegment.includes('.') ? pathname.slice(0, pathname.lastIndexOf('/') + 1) : `${pathname}/`;
}
