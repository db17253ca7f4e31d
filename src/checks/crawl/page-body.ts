import { StringDecoder } from 'node:string_decoder';
import type { BodySink } from './fetch-page.ts';
import type { LinkExtractor } from './link-extractor.ts';

/**
 * What the crawl takes from one page's body while it streams in: chunks go to the link
 * extractor as they arrive (HTML pages), and the text is kept only where a keyword needs it.
 * One UTF-8 decoder in front, so a character split between chunks is decoded whole.
 */
export class PageBody implements BodySink {
  private readonly decoder = new StringDecoder('utf8');
  private readonly parts: string[] | undefined;

  constructor(
    /** Undefined when the page is not HTML. */
    readonly extractor: LinkExtractor | undefined,
    keepText: boolean,
  ) {
    this.parts = keepText ? [] : undefined;
  }

  write(chunk: Buffer): void {
    this.take(this.decoder.write(chunk));
  }

  end(): void {
    this.take(this.decoder.end());
    this.extractor?.end();
  }

  /** The whole text read (up to the crawl's body limit), or undefined when no keyword asked for it. */
  text(): string | undefined {
    return this.parts?.join('');
  }

  private take(text: string): void {
    if (!text) return;
    this.parts?.push(text);
    this.extractor?.write(text);
  }
}
