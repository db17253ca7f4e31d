import type { ConnectionOptions } from 'node:tls';
import { z } from 'zod';
import { type CertificateFacts, judgeExpiry } from '../assertions/certificate-checks.ts';
import { noAuthBlock } from '../config/auth-settings.ts';
import { DEFAULT_TLS_SETTINGS, tlsSettingsSchema } from '../config/tls-settings.ts';
import { duration, httpUrl, regexSource, strictObject } from '../config/zod-helpers.ts';
import type { ProbeOutcome } from '../results/run-result.ts';
import { tlsConnection, tlsFileErrorOutcome } from './certificate-options.ts';
import { checkSchemaOf, MAX_TIMEOUT_MS } from './check-base.ts';
import { crawlScope } from './crawl/crawl-scope.ts';
import { crawlSite } from './crawl/crawl-site.ts';
import { crawlVerdict } from './crawl/crawl-verdict.ts';
import { pageAgent } from './crawl/page-agent.ts';
import { TlsFileError } from './errors/tls-file-error.ts';
import { PhaseClock } from './phase-clock.ts';
import type { Probe } from './probe.ts';

/** The `crawl:` block: where the crawl starts, how far it goes, and what pages must say. */
export const crawlSettingsSchema = strictObject(
  {
    url: httpUrl().describe(
      'Where the crawl starts. Its origin (scheme, host, port) bounds what is fetched; https speaks TLS as the `tls` block says. Required.',
    ),
    scope: z
      .enum(['sameOrigin', 'samePathPrefix'])
      .default('sameOrigin')
      .describe(
        "Which links are followed: `sameOrigin` any URL with the root's scheme, host and port; `samePathPrefix` only those also under the root's directory. Default `sameOrigin`.",
      ),
    includeAssets: z
      .boolean()
      .default(false)
      .describe(
        'Also check `<link href>`, `<img src>` and `<script src>` (in scope), fetched for their status, not parsed. Default false.',
      ),
    maxDepth: z
      .number()
      .int()
      .min(0)
      .max(20)
      .default(3)
      .describe('Link hops from the root to follow; 0 checks the root (and its assets) only. Default 3.'),
    maxPages: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(200)
      .describe('Most URLs fetched in one run (pages, assets, redirect targets, broken ones). Default 200.'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(32)
      .default(4)
      .describe('Pages fetched at once, over as many keep-alive connections. Default 4.'),
    exclude: z
      .array(regexSource())
      .default([])
      .describe(
        'Regular expressions tested against each absolute URL; a match is never fetched. Default none.',
      ),
    pageTimeout: duration({ min: 100, max: MAX_TIMEOUT_MS })
      .default(10_000)
      .describe(
        "Longest one page may take, request to last byte; a slower page is a broken link. Default 10s (the check's `timeout` still bounds the crawl).",
      ),
    keywords: z
      .array(
        strictObject({
          pathPattern: regexSource().describe(
            "Regular expression over the page's path and query: `^/pricing$`.",
          ),
          contains: z.string().min(1).describe('Exact text the page must contain: `Buy now`.'),
        }),
      )
      .default([])
      .describe(
        'Every crawled page whose path matches `pathPattern` must contain `contains`; a pattern no page matches fails too. Default none.',
      ),
  },
  { what: 'the crawl settings, such as { url: "https://shop.example/" }' },
).describe('Where the crawl starts, how far it goes, and what pages must say.');

export const crawlCheckSchema = checkSchemaOf('crawl', {
  settings: crawlSettingsSchema,
  tls: tlsSettingsSchema.optional().describe('How an https root is spoken. Default: system CAs, verified.'),
  auth: noAuthBlock('crawl', ''),
});
export type CrawlCheck = z.output<typeof crawlCheckSchema>;

const HEADERS = {
  'user-agent': 'pathwatch/0.1 (synthetic monitoring; crawl)',
  accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
};

export const crawlProbe: Probe<CrawlCheck> = {
  async run(check, context) {
    const clock = new PhaseClock();
    const settings = check.crawl;
    const root = new URL(settings.url);
    root.hash = '';
    let rootCertificate: CertificateFacts | undefined;
    let tlsOptions: ConnectionOptions = {};
    if (root.protocol === 'https:') {
      try {
        const tls = await tlsConnection(check.tls, root.hostname.replace(/^\[|\]$/g, ''), context);
        // Without a configured serverName the root's host is named (by openHttpConnection).
        const { servername: _fromRoot, ...options } = tls.options;
        tlsOptions = check.tls?.serverName ? tls.options : options;
      } catch (error) {
        if (error instanceof TlsFileError) return tlsFileErrorOutcome(error, { url: root.href });
        throw error;
      }
    }
    const agent = pageAgent({
      root,
      maxSockets: settings.concurrency,
      tls: tlsOptions,
      signal: context.signal,
      // The first handshake's certificate is the site's: its expiry is judged like every kind's.
      onHandshake: (facts) => {
        rootCertificate ??= facts.certificate;
      },
    });
    const keywords = settings.keywords.map((keyword) => ({
      pathPattern: new RegExp(keyword.pathPattern),
      source: keyword.pathPattern,
      contains: keyword.contains,
    }));
    try {
      const report = await crawlSite({
        root,
        inScope: crawlScope(root, settings.scope),
        exclude: settings.exclude.map((source) => new RegExp(source)),
        includeAssets: settings.includeAssets,
        maxDepth: settings.maxDepth,
        maxPages: settings.maxPages,
        concurrency: settings.concurrency,
        pageTimeoutMs: settings.pageTimeout,
        keywords,
        agent,
        headers: HEADERS,
        signal: context.signal,
        clock,
      });
      const verdict = withCertificateExpiry(
        crawlVerdict({ report, keywords, timeoutMs: context.timeoutMs }),
        rootCertificate,
        check,
      );
      return { ...verdict, phases: clock.finish(), peers: report.peers };
    } finally {
      agent.destroy(); // keep-alive sockets must not outlive the run
    }
  },
};

/** Adds the `tls` block's expiry limits to a crawl's verdict; a crawl that failed already keeps its own error. */
function withCertificateExpiry(
  verdict: Omit<ProbeOutcome, 'phases' | 'peers'>,
  certificate: CertificateFacts | undefined,
  check: CrawlCheck,
): Omit<ProbeOutcome, 'phases' | 'peers'> {
  if (!certificate) return verdict;
  const expiry = judgeExpiry(certificate, check.tls ?? DEFAULT_TLS_SETTINGS);
  const judged = {
    ...verdict,
    assertions: [...(verdict.assertions ?? []), ...expiry.assertions],
    details: { ...verdict.details, certificate },
  };
  if (verdict.status === 'fail' || verdict.status === 'error') return judged;
  if (expiry.error) return { ...judged, status: 'fail', error: expiry.error };
  return expiry.degraded ? { ...judged, status: 'degraded' } : judged;
}
