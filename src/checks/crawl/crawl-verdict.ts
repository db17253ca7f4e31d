import { type CodedRunError, errorOf } from '../../results/error-codes.ts';
import type { AssertionResult, ProbeOutcome } from '../../results/run-result.ts';
import { timeoutError } from '../network-error.ts';
import type { CrawlReport, CrawlVisit, Keyword } from './crawl-site.ts';

/** `details.visited` and `details.broken` stop here, so one huge site cannot bloat a result. */
const LIST_KEPT = 500;
/** URLs named in one assertion's `actual`. */
const URLS_NAMED = 5;

export interface BrokenLink {
  url: string;
  status?: number;
  error?: string;
  /** Pages that link here (at most 10); `linkedFromCount` says how many in all when more. */
  linkedFrom: string[];
  linkedFromCount?: number;
}

export interface VerdictInput {
  report: CrawlReport;
  keywords: Array<Keyword & { source: string }>;
  /** The check's whole timeout, for the deadline message. */
  timeoutMs: number;
}

/** Turns what the crawl saw into status, error, assertions and details. */
export function crawlVerdict({
  report,
  keywords,
  timeoutMs,
}: VerdictInput): Omit<ProbeOutcome, 'phases' | 'peers'> {
  const { root } = report;
  const answered = report.visits.filter((visit) => visit.response && !visit.response.aborted);
  const visited = answered
    .slice(0, LIST_KEPT)
    .map((visit) =>
      visit.response?.error
        ? { url: visit.url, error: visit.response.error.message, ms: visit.response.ms }
        : { url: visit.url, status: visit.response?.status, ms: visit.response?.ms },
    );
  const broken = answered.filter(isBroken).map(brokenLink);
  const details: Record<string, unknown> = {
    url: root.url,
    pages: answered.length,
    maxDepthReached: report.maxDepthReached,
    pageLimitReached: report.pageLimitReached,
    brokenCount: broken.length,
    broken: broken.slice(0, LIST_KEPT),
    notFetched: report.notFetched,
    visited,
    ...(answered.length > LIST_KEPT ? { visitedTruncated: true } : {}),
    ...(report.stoppedAtDeadline ? { stoppedAtDeadline: true } : {}),
  };
  const rootError = rootFailure(report, timeoutMs);
  if (rootError) return { status: 'fail', error: rootError, details };

  const assertions: AssertionResult[] = [
    { name: 'no broken links', ok: broken.length === 0, expected: 0, actual: broken.length },
  ];
  const keywordErrors: CodedRunError[] = [];
  const unmatchedErrors: CodedRunError[] = [];
  for (const [index, keyword] of keywords.entries()) {
    const missing = answered.filter((visit) => visit.missingKeywords.includes(index));
    const matched = report.keywordMatches[index];
    const name = `pages matching /${keyword.source}/ contain "${keyword.contains}"`;
    const expected = `contains "${keyword.contains}"`;
    if (missing.length > 0) {
      assertions.push({
        name,
        ok: false,
        expected,
        actual: `missing on ${namedUrls(missing.map((visit) => visit.url))}`,
      });
      const others = missing.length - 1;
      const more =
        others === 0
          ? ''
          : ` (nor ${others === 1 ? 'does 1 more page' : `do ${others} more pages`} matching /${keyword.source}/)`;
      keywordErrors.push(
        errorOf('ASSERTION', `${missing[0].url} does not contain "${keyword.contains}"${more}`),
      );
    } else if (matched === 0) {
      assertions.push({ name, ok: false, expected, actual: 'no crawled page matched' });
      const limit = report.pageLimitReached ? ', page limit reached' : '';
      unmatchedErrors.push(
        errorOf(
          'ASSERTION',
          `no crawled page matched keyword pathPattern /${keyword.source}/ (expected one containing "${keyword.contains}"; ${answered.length} pages crawled${limit})`,
        ),
      );
    } else {
      assertions.push({ name, ok: true, expected, actual: `found on ${matched} pages` });
    }
  }

  const stopNote = report.stoppedAtDeadline
    ? `; crawl stopped at the deadline after ${answered.length} pages`
    : '';
  let error: CodedRunError | undefined;
  if (broken.length > 0) {
    const first = describeBroken(broken[0]);
    const message =
      broken.length === 1 ? `1 broken link: ${first}` : `${broken.length} broken links, first: ${first}`;
    error = errorOf('BROKEN_LINKS', `${message}${stopNote}`);
  } else if (keywordErrors.length > 0) {
    error = { ...keywordErrors[0], message: `${keywordErrors[0].message}${stopNote}` };
  } else if (report.stoppedAtDeadline) {
    error = deadlineError(report, answered.length, timeoutMs);
  } else if (unmatchedErrors.length > 0) {
    error = unmatchedErrors[0];
  }
  return error ? { status: 'fail', error, assertions, details } : { status: 'pass', assertions, details };
}

/** Why the crawl could not start: the root itself failed. */
function rootFailure(report: CrawlReport, timeoutMs: number): CodedRunError | undefined {
  const response = report.root.response;
  if (!response) return timeoutError(undefined, report.root.url, timeoutMs);
  if (response.aborted) return timeoutError(response.phase, response.target, timeoutMs);
  if (response.error) return response.error;
  const status = response.status ?? 0;
  if (status >= 400) return errorOf('HTTP_STATUS', `crawl root ${report.root.url} answered ${status}`);
  const redirect = report.root.redirect;
  if (redirect && !redirect.followed)
    return errorOf(
      'ASSERTION',
      `crawl root ${report.root.url} redirects to ${redirect.url}, outside the crawl scope: start the crawl there`,
    );
  return undefined;
}

/** `a, b, c, d, e and 7 more` */
function namedUrls(urls: string[]): string {
  const named = urls.slice(0, URLS_NAMED).join(', ');
  return urls.length > URLS_NAMED ? `${named} and ${urls.length - URLS_NAMED} more` : named;
}

function deadlineError(report: CrawlReport, pages: number, timeoutMs: number): CodedRunError {
  const waiting = report.visits.filter((visit) => visit.response?.aborted).map((visit) => visit.url);
  const more = waiting.length > 1 ? ` and ${waiting.length - 1} more` : '';
  const still = waiting.length > 0 ? `, still waiting for ${waiting[0]}${more}` : '';
  return errorOf(
    'TIMEOUT',
    `crawl stopped at the deadline after ${pages} pages (timeout ${Math.round(timeoutMs)} ms)${still}`,
    'crawl',
  );
}

function isBroken(visit: CrawlVisit): boolean {
  const response = visit.response;
  if (!response) return false;
  if (response.error) return true;
  const status = response.status ?? 0;
  return status >= 400 || (status >= 300 && status < 400 && !response.location);
}

function brokenLink(visit: CrawlVisit): BrokenLink {
  const response = visit.response;
  const status = response?.status ?? 0;
  const entry: BrokenLink = response?.error
    ? { url: visit.url, error: response.error.message, linkedFrom: visit.linkedFrom }
    : status < 400
      ? { url: visit.url, status, error: 'redirect without a Location header', linkedFrom: visit.linkedFrom }
      : { url: visit.url, status, linkedFrom: visit.linkedFrom };
  if (visit.linkedFromCount > visit.linkedFrom.length) entry.linkedFromCount = visit.linkedFromCount;
  return entry;
}

/** `http://…/missing (404) linked from http://…/about and 2 more pages` */
function describeBroken(link: BrokenLink): string {
  const why =
    link.error && link.status === undefined
      ? link.error
      : link.error
        ? `${link.status}, ${link.error}`
        : link.status;
  const total = link.linkedFromCount ?? link.linkedFrom.length;
  const from =
    link.linkedFrom.length === 0
      ? ''
      : ` linked from ${link.linkedFrom[0]}${total > 1 ? ` and ${total - 1} more ${total === 2 ? 'page' : 'pages'}` : ''}`;
  return `${link.url} (${why})${from}`;
}
