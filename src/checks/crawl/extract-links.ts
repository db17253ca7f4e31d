import { htmlTags } from './html-tags.ts';

/** A link found on a page: `page` links are crawled a level deeper, `asset` links are only checked. */
export interface ExtractedLink {
  /** Absolute http(s) URL without its fragment. */
  url: string;
  kind: 'page' | 'asset';
}

/** Schemes that name no fetchable resource; links with them are not links to check. */
const IGNORED_SCHEME_RE = /^(mailto|javascript|tel|sms|callto|data|blob|about|file):/i;

/** `<link rel>` values that point at an origin to warm up, not at a resource to fetch. */
const HINT_RELS = new Set(['dns-prefetch', 'preconnect']);

/**
 * The links on one HTML page, in document order and without duplicates: `<a href>` and
 * `<area href>` always; `<link href>`, `<img src>` and `<script src>` when `includeAssets`.
 * Relative URLs resolve against the first `<base href>` (as browsers do, wherever it stands)
 * or else the page URL; fragments are dropped because they name the same resource.
 */
export function extractLinks(html: string, pageUrl: string, includeAssets: boolean): ExtractedLink[] {
  const found: Array<{ value: string; kind: ExtractedLink['kind'] }> = [];
  let baseHref: string | undefined;
  for (const tag of htmlTags(html)) {
    const { name, attributes } = tag;
    if (name === 'base') {
      baseHref ??= attributes.get('href');
    } else if (name === 'a' || name === 'area') {
      const href = attributes.get('href');
      if (href !== undefined) found.push({ value: href, kind: 'page' });
    } else if (includeAssets && name === 'link') {
      const rel = (attributes.get('rel') ?? '').toLowerCase().split(/\s+/);
      const href = attributes.get('href');
      if (href !== undefined && !rel.some((value) => HINT_RELS.has(value)))
        found.push({ value: href, kind: 'asset' });
    } else if (includeAssets && (name === 'img' || name === 'script')) {
      const src = attributes.get('src');
      if (src !== undefined) found.push({ value: src, kind: 'asset' });
    }
  }
  const base = resolve(baseHref, pageUrl) ?? pageUrl;
  const links: ExtractedLink[] = [];
  const seen = new Set<string>();
  for (const { value, kind } of found) {
    const url = resolve(value, base);
    if (url === undefined || seen.has(url)) continue;
    seen.add(url);
    links.push({ url, kind });
  }
  return links;
}

/** An absolute http(s) URL without fragment, or undefined for what is not a link to fetch. */
function resolve(value: string | undefined, base: string): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed || trimmed.startsWith('#') || IGNORED_SCHEME_RE.test(trimmed)) return undefined;
  let url: URL;
  try {
    url = new URL(trimmed, base);
  } catch {
    return undefined; // unparseable: browsers ignore it too
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.hash = '';
  return url.href;
}
