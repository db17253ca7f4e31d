import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { caFile, duration, httpUrl, regexSource, strictObject } from '../config/zod-helpers.ts';
import { checkBaseShape, MAX_TIMEOUT_MS } from './check-base.ts';
import { crawlScope } from './crawl/crawl-scope.ts';
import { crawlSite } from './crawl/crawl-site.ts';
import { crawlVerdict } from './crawl/crawl-verdict.ts';
import { PhaseClock } from './phase-clock.ts';
import type { Probe } from './probe.ts';

export const crawlCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('crawl'),
  /** Where the crawl starts. Its origin (scheme, host, port) bounds what is fetched. */
  url: httpUrl(),
  /**
   * Which links are followed: `sameOrigin` (default) any URL with the root's scheme, host
   * and port; `samePathPrefix` only those also under the root's directory (`/docs/` for a
   * root of `/docs`, `/docs/` or `/docs/index.html`). Other links are never fetched.
   */
  scope: z.enum(['sameOrigin', 'samePathPrefix']).default('sameOrigin'),
  /**
   * Also check `<link href>`, `<img src>` and `<script src>` (in scope), not only
   * `<a href>`/`<area href>`; default false. Assets are fetched for their status, not parsed.
   */
  includeAssets: z.boolean().default(false),
  /** Link hops from the root to follow; 0 checks the root (and its assets) only. Default 3. */
  maxDepth: z.number().int().min(0).max(20).default(3),
  /** Most URLs fetched in one run (pages, assets, redirect targets, broken ones); default 200. */
  maxPages: z.number().int().min(1).max(10_000).default(200),
  /** Pages fetched at once, over as many keep-alive connections; default 4. */
  concurrency: z.number().int().min(1).max(32).default(4),
  /** Regular expressions tested against each absolute URL; a match is never fetched (`/logout`, `\\?sort=`). Default none. */
  exclude: z.array(regexSource()).default([]),
  /**
   * Longest one page may take, from request to last byte; a slower page counts as a
   * broken link. Default 10s. The whole crawl is still bounded by the check's `timeout`.
   */
  pageTimeout: duration({ min: 100, max: MAX_TIMEOUT_MS }).default(10_000),
  /**
   * Text that must appear on pages: every crawled page whose path (path and query, e.g.
   * `/pricing?plan=pro`) matches `pathPattern` must contain `contains` (case-sensitive,
   * in the HTML source). A pattern no crawled page matches fails too. Default none.
   */
  keywords: z
    .array(
      strictObject({
        /** Regular expression over the page's path and query: `^/pricing$`. */
        pathPattern: regexSource(),
        /** Exact text the page must contain: `Buy now`. */
        contains: z.string().min(1),
      }),
    )
    .default([]),
  /** TLS for an https root: verification on by default, with extra CAs for internal sites. */
  tls: strictObject({
    /** Verify the chain and host name (default true). */
    verify: z.boolean().default(true),
    /** PEM file of extra trusted CAs, relative to the config file. */
    ca: caFile().optional(),
  }).default({ verify: true }),
});
export type CrawlCheck = z.output<typeof crawlCheckSchema>;

const HEADERS = {
  'user-agent': 'pathwatch/0.1 (synthetic monitoring; crawl)',
  accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
};

export const crawlProbe: Probe<CrawlCheck> = {
  async run(check, context) {
    const clock = new PhaseClock();
    const root = new URL(check.url);
    root.hash = '';
    // One origin, one keep-alive pool: a page costs a request, not a handshake.
    const agent =
      root.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            maxSockets: check.concurrency,
            rejectUnauthorized: check.tls.verify,
            ca: check.tls.ca ? await readFile(resolvePath(context.configDir, check.tls.ca)) : undefined,
          })
        : new http.Agent({ keepAlive: true, maxSockets: check.concurrency });
    const keywords = check.keywords.map((keyword) => ({
      pathPattern: new RegExp(keyword.pathPattern),
      source: keyword.pathPattern,
      contains: keyword.contains,
    }));
    try {
      const report = await crawlSite({
        root,
        inScope: crawlScope(root, check.scope),
        exclude: check.exclude.map((source) => new RegExp(source)),
        includeAssets: check.includeAssets,
        maxDepth: check.maxDepth,
        maxPages: check.maxPages,
        concurrency: check.concurrency,
        pageTimeoutMs: check.pageTimeout,
        keywords,
        agent,
        headers: HEADERS,
        signal: context.signal,
        clock,
      });
      const verdict = crawlVerdict({ report, keywords, timeoutMs: context.timeoutMs });
      return { ...verdict, phases: clock.finish(), peers: report.peers };
    } finally {
      agent.destroy(); // keep-alive sockets must not outlive the run
    }
  },
};
