import { PATHWATCH_VERSION } from '../version.ts';

/**
 * While a trace records, Playwright already logs every request as a HAR entry (the trace's
 * `.network` file, one `resource-snapshot` event per line). Recording a HAR next to it
 * would log the same requests twice, so a traced run's HAR is built from that log
 * instead. The entries are Playwright's own HAR entries; only pointers into the trace's
 * resource store are dropped (the HAR, like the untraced one, omits bodies). Those pointers
 * are the SHA-1 of the bodies: a form post's would let a guessed password be confirmed.
 */

interface TraceHarEntry {
  pageref?: string;
  startedDateTime?: string;
  request?: { url?: string; postData?: Record<string, unknown> };
  response?: { content?: Record<string, unknown> };
  _resourceType?: string;
  _monotonicTime?: number;
  [field: string]: unknown;
}

interface HarPage {
  startedDateTime: string;
  id: string;
  title: string;
  pageTimings: Record<string, number>;
}

/** Fields of a trace entry that point into the trace's own files or clock. */
const TRACE_ONLY_CONTENT_FIELDS = ['_file', '_sha1'];

export function harFromTraceNetwork(networkText: string, browserVersion: string): string {
  const entries: TraceHarEntry[] = [];
  for (const line of networkText.split('\n')) {
    if (!line.trim()) continue;
    let event: { type?: string; snapshot?: TraceHarEntry };
    try {
      event = JSON.parse(line);
    } catch {
      continue; // a line cut short by a crash: the others still tell the story
    }
    if (event.type !== 'resource-snapshot' || !event.snapshot) continue;
    const entry = event.snapshot;
    for (const field of TRACE_ONLY_CONTENT_FIELDS) {
      delete entry.response?.content?.[field];
      delete entry.request?.postData?.[field];
    }
    delete entry._monotonicTime;
    entries.push(entry);
  }
  entries.sort((a, b) => String(a.startedDateTime).localeCompare(String(b.startedDateTime)));

  // The trace has no HAR page records; each page is named by the first document it loaded.
  const pages = new Map<string, HarPage>();
  for (const entry of entries) {
    if (!entry.pageref || pages.has(entry.pageref)) continue;
    pages.set(entry.pageref, {
      startedDateTime: entry.startedDateTime ?? new Date(0).toISOString(),
      id: entry.pageref,
      title: entry.request?.url ?? '',
      pageTimings: {},
    });
  }
  return JSON.stringify({
    log: {
      version: '1.2',
      creator: { name: 'pathwatch', version: PATHWATCH_VERSION },
      browser: { name: 'chromium', version: browserVersion },
      pages: [...pages.values()],
      entries,
    },
  });
}

/**
 * The run's HAR with the entries of its `page.request` / `context.request` calls added
 * (observe-api-requests.ts), in time order: neither Playwright's HAR recorder nor its trace
 * logs them. A HAR that already has API entries (a Playwright that logs them) is kept as is.
 */
export function withApiEntries(
  harText: string | undefined,
  apiEntries: Array<Record<string, unknown>>,
  browserVersion: string,
): string | undefined {
  if (apiEntries.length === 0) return harText;
  const har = JSON.parse(harText ?? harFromTraceNetwork('', browserVersion)) as {
    log: { entries?: TraceHarEntry[] };
  };
  const entries = har.log.entries ?? [];
  if (entries.some((entry) => entry._apiRequestRef !== undefined)) return harText;
  har.log.entries = [...entries, ...(apiEntries as TraceHarEntry[])].sort((a, b) =>
    String(a.startedDateTime).localeCompare(String(b.startedDateTime)),
  );
  return JSON.stringify(har);
}
