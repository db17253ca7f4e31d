import { Parser } from 'htmlparser2';
import { srcsetUrls } from './srcset-urls.ts';

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
 * The links of one HTML page, fed in chunks as the body arrives (htmlparser2's streaming
 * parser, so a tag or an entity split between two chunks is read whole): `<a href>` and
 * `<area href>` always; `<link href>`, `<img src>`, `<script src>` and every `srcset`
 * candidate of `<img>` and `<source>` when `includeAssets`. Attribute values are decoded
 * with the full HTML entity table. Comments and raw-text elements (script, style, title,
 * textarea, xmp, iframe, noembed, noframes) hold no tags, and nothing inside a
 * `<template>` counts: its content is inert, as in a browser.
 */
export class LinkExtractor {
  private readonly parser: Parser;
  private readonly found: Array<{ value: string; kind: ExtractedLink['kind'] }> = [];
  private baseHref: string | undefined;
  /** How many `<template>` elements are open around the current tag. */
  private templateDepth = 0;
  private ended = false;

  constructor(
    private readonly pageUrl: string,
    private readonly includeAssets: boolean,
  ) {
    this.parser = new Parser({
      onopentag: (name, attributes) => this.onOpenTag(name, attributes),
      onclosetag: (name) => {
        if (name === 'template' && this.templateDepth > 0) this.templateDepth--;
      },
    });
  }

  /** The next piece of the page, already decoded to text. */
  write(html: string): void {
    if (!this.ended) this.parser.write(html);
  }

  /** No more text will come: a tag still open (cut by the end of the body) is dropped, as browsers do. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.parser.end();
  }

  /**
   * The links in document order without duplicates. Relative URLs resolve against the
   * first `<base href>` (as in browsers, wherever it stands, so only once the page has
   * ended) or else the page URL; fragments are dropped because they name the same resource.
   */
  links(): ExtractedLink[] {
    this.end();
    const base = resolve(this.baseHref, this.pageUrl) ?? this.pageUrl;
    const links: ExtractedLink[] = [];
    const seen = new Set<string>();
    for (const { value, kind } of this.found) {
      const url = resolve(value, base);
      if (url === undefined || seen.has(url)) continue;
      seen.add(url);
      links.push({ url, kind });
    }
    return links;
  }

  private onOpenTag(name: string, attributes: Record<string, string>): void {
    if (name === 'template') this.templateDepth++;
    if (this.templateDepth > 0) return;
    const add = (value: string | undefined, kind: ExtractedLink['kind']) => {
      if (value !== undefined) this.found.push({ value, kind });
    };
    if (name === 'base') this.baseHref ??= attributes.href;
    else if (name === 'a' || name === 'area') add(attributes.href, 'page');
    if (!this.includeAssets) return;
    if (name === 'link') {
      const rel = (attributes.rel ?? '').toLowerCase().split(/\s+/);
      if (!rel.some((value) => HINT_RELS.has(value))) add(attributes.href, 'asset');
    } else if (name === 'img' || name === 'script') {
      add(attributes.src, 'asset');
    }
    if ((name === 'img' || name === 'source') && attributes.srcset !== undefined) {
      for (const url of srcsetUrls(attributes.srcset)) add(url, 'asset');
    }
  }
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
