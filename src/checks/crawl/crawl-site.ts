import type http from 'node:http';
import type { Peer } from '../../results/run-result.ts';
import type { PhaseClock } from '../phase-clock.ts';
import { fetchPage, type PageResponse } from './fetch-page.ts';
import { type ExtractedLink, LinkExtractor } from './link-extractor.ts';
import { PageBody } from './page-body.ts';
import { runBounded } from './run-bounded.ts';

/** A page whose path matches `pathPattern` must contain `contains`. */
export interface Keyword {
  pathPattern: RegExp;
  contains: string;
}

export interface CrawlPlan {
  root: URL;
  inScope(url: URL): boolean;
  /** Tested against the absolute URL; a match is not fetched. */
  exclude: RegExp[];
  includeAssets: boolean;
  maxDepth: number;
  maxPages: number;
  concurrency: number;
  pageTimeoutMs: number;
  keywords: Keyword[];
  agent: http.Agent;
  headers: Record<string, string>;
  /** The check's deadline: stops the crawl. */
  signal: AbortSignal;
  /** Gets the root page's phases, then `crawl` for the rest. */
  clock: PhaseClock;
}

/** A URL the crawl decided to fetch. */
export interface CrawlVisit {
  url: string;
  /** Link hops from the root; assets and redirect targets share the depth of their page. */
  depth: number;
  kind: 'page' | 'asset';
  /** Pages that link (or redirect) here, at most LINKED_FROM_KEPT of them. */
  linkedFrom: string[];
  linkedFromCount: number;
  /** Undefined when it was never started (page limit, deadline). */
  response?: PageResponse;
  /** Where a 3xx pointed, and whether the crawl follows it (in scope, not excluded). */
  redirect?: { url: string; followed: boolean };
  /** Indexes into `plan.keywords` whose text this page lacked. */
  missingKeywords: number[];
}

export interface CrawlReport {
  root: CrawlVisit;
  /** Every visit started, in the order the URLs were discovered. */
  visits: CrawlVisit[];
  stoppedAtDeadline: boolean;
  pageLimitReached: boolean;
  /** Deepest depth of a page that answered. */
  maxDepthReached: number;
  /** Distinct URLs seen but not fetched, by reason. */
  notFetched: { outOfScope: number; excluded: number; beyondDepth: number; beyondPageLimit: number };
  /** How many pages each keyword's pathPattern matched. */
  keywordMatches: number[];
  peers: Peer[];
}

const LINKED_FROM_KEPT = 10;

/**
 * Crawls level by level (breadth first): every page of depth d is fetched before any of
 * depth d + 1, so a page's depth is its shortest link distance from the root and the
 * depth and page limits cut the same pages every run, whatever order answers arrive in.
 */
export async function crawlSite(plan: CrawlPlan): Promise<CrawlReport> {
  const known = new Map<string, CrawlVisit>();
  const outOfScope = new Set<string>();
  const excluded = new Set<string>();
  const beyondDepth = new Set<string>();
  const peers = new Map<string, Peer>();
  const keywordMatches = plan.keywords.map(() => 0);
  let started = 0;
  let beyondPageLimit = 0;
  let pageLimitReached = false;
  let maxDepthReached = 0;
  let stopped = plan.signal.aborted;
  const onAbort = () => {
    stopped = true;
  };
  plan.signal.addEventListener('abort', onAbort, { once: true });

  const discover = (url: string, depth: number, kind: CrawlVisit['kind']): CrawlVisit => {
    const visit: CrawlVisit = { url, depth, kind, linkedFrom: [], linkedFromCount: 0, missingKeywords: [] };
    known.set(url, visit);
    return visit;
  };
  const addReferrer = (visit: CrawlVisit, from: string) => {
    if (visit.url === from) return;
    visit.linkedFromCount++;
    if (visit.linkedFrom.length < LINKED_FROM_KEPT && !visit.linkedFrom.includes(from))
      visit.linkedFrom.push(from);
  };
  /**
   * Records a link from `from` to `href` and queues `href` on `queue` if the crawl may
   * fetch it and has not met it yet (no queue: it lies beyond the depth limit). Says
   * whether the URL is part of the crawl.
   */
  const admit = (
    href: string,
    depth: number,
    kind: CrawlVisit['kind'],
    from: string,
    queue?: CrawlVisit[],
  ): boolean => {
    const existing = known.get(href);
    if (existing) {
      addReferrer(existing, from);
      return true;
    }
    if (!plan.inScope(new URL(href))) {
      outOfScope.add(href);
      return false;
    }
    if (plan.exclude.some((pattern) => pattern.test(href))) {
      excluded.add(href);
      return false;
    }
    if (!queue) {
      beyondDepth.add(href);
      return false;
    }
    const visit = discover(href, depth, kind);
    addReferrer(visit, from);
    queue.push(visit);
    return true;
  };

  const root = discover(plan.root.href, 0, 'page');
  let level = [root];
  try {
    for (let depth = 0; level.length > 0; depth++) {
      const pageLinks = new Map<CrawlVisit, ExtractedLink[]>();
      const currentLevel = level;
      const visitOne = async (visit: CrawlVisit) => {
        if (started >= plan.maxPages) {
          pageLimitReached = true;
          beyondPageLimit++;
          return;
        }
        started++;
        const url = new URL(visit.url);
        const path = url.pathname + url.search;
        const applies = plan.keywords.map((keyword) => keyword.pathPattern.test(path));
        const keywordApplies = applies.includes(true);
        const request = {
          url,
          agent: plan.agent,
          headers: plan.headers,
          timeoutMs: plan.pageTimeoutMs,
          signal: plan.signal,
          readBody: (status: number, contentType: string | undefined) => {
            if (status < 200 || status >= 300) return undefined;
            const html = isHtml(contentType);
            if (!html && !keywordApplies) return undefined;
            const extractor = html ? new LinkExtractor(visit.url, plan.includeAssets) : undefined;
            return new PageBody(extractor, keywordApplies);
          },
          onPeer: (ip: string, port: number) => peers.set(`${ip}|${port}`, { ip, port }),
          onPhase: visit === root ? (phase: string) => plan.clock.enter(phase) : undefined,
        };
        let response = await fetchPage(request);
        // A server may close an idle keep-alive socket just as it is reused; GET is safe to
        // repeat once on a fresh one rather than report a broken link that is not.
        if (response.error?.class === 'reset' && response.reusedSocket) response = await fetchPage(request);
        visit.response = response;
        if (response.aborted) return;
        if (visit === root && !response.error) plan.clock.enter('crawl');
        if (response.status !== undefined && visit.depth > maxDepthReached) maxDepthReached = visit.depth;
        const status = response.status ?? 0;
        if (status >= 300 && status < 400 && response.location) {
          // A redirect is not a hop deeper: its target is the same page under another URL.
          const target = resolveLocation(response.location, visit.url);
          visit.redirect = {
            url: target ?? response.location,
            followed: target !== undefined && admit(target, visit.depth, visit.kind, visit.url, currentLevel),
          };
        }
        if (response.body === undefined) return;
        const text = response.body.text();
        for (const [index, keyword] of plan.keywords.entries()) {
          if (!applies[index]) continue;
          keywordMatches[index]++;
          if (!text?.includes(keyword.contains)) visit.missingKeywords.push(index);
        }
        if (!response.body.extractor) return;
        const links = response.body.extractor.links();
        for (const link of links) {
          // Assets belong to the page that uses them: checked at its depth, even the last one.
          if (link.kind === 'asset') admit(link.url, visit.depth, 'asset', visit.url, currentLevel);
        }
        pageLinks.set(
          visit,
          links.filter((link) => link.kind === 'page'),
        );
      };
      await runBounded(level, plan.concurrency, visitOne, () => stopped);
      if (stopped || root.response?.error || root.response?.aborted) break;
      const nextLevel: CrawlVisit[] = [];
      const deeper = depth < plan.maxDepth ? nextLevel : undefined;
      for (const visit of level) {
        for (const link of pageLinks.get(visit) ?? []) admit(link.url, depth + 1, 'page', visit.url, deeper);
      }
      level = nextLevel;
    }
  } finally {
    plan.signal.removeEventListener('abort', onAbort);
  }
  return {
    root,
    visits: [...known.values()].filter((visit) => visit.response !== undefined),
    stoppedAtDeadline: stopped,
    pageLimitReached,
    maxDepthReached,
    notFetched: {
      outOfScope: outOfScope.size,
      excluded: excluded.size,
      beyondDepth: beyondDepth.size,
      beyondPageLimit,
    },
    keywordMatches,
    peers: [...peers.values()],
  };
}

/** Content types worth scanning for links; a missing one is scanned too (old servers omit it). */
function isHtml(contentType: string | undefined): boolean {
  return contentType === undefined || /text\/html|application\/xhtml\+xml/i.test(contentType);
}

/** A redirect's absolute target without fragment, or undefined when it is not an http(s) URL. */
function resolveLocation(location: string, from: string): string | undefined {
  try {
    const url = new URL(location, from);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    url.hash = '';
    return url.href;
  } catch {
    return undefined;
  }
}
