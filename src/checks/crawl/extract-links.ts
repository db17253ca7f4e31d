import { type ExtractedLink, LinkExtractor } from './link-extractor.ts';

export type { ExtractedLink } from './link-extractor.ts';

/** The links of an HTML page held whole in memory; see LinkExtractor for what counts as a link. */
export function extractLinks(html: string, pageUrl: string, includeAssets: boolean): ExtractedLink[] {
  const extractor = new LinkExtractor(pageUrl, includeAssets);
  extractor.write(html);
  return extractor.links();
}
