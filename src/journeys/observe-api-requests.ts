import type { APIRequestContext, APIResponse } from 'playwright';
import type { PageObservations } from './page-observations.ts';

type Fetch = APIRequestContext['fetch'];

/** What APIResponse holds at run time but its typings leave out (Playwright ≥ 1.x keeps both). */
interface ApiResponseInternals {
  serverAddr?: () => Promise<{ ipAddress: string; port: number } | null>;
  timing?: () => Record<string, number>;
}

/** Playwright's call name in front of an API error: `apiRequestContext.get: connect ECONNREFUSED …`. */
const API_ERROR_PREFIX_RE = /^apiRequestContext\.\w+: /;

/** Errors that mean the run itself closed the context (a cut), not that the target failed. */
const CLOSED_RE = /disposed|has been closed|Target closed/i;

function millis(value: number | undefined, from: number | undefined): number {
  return value === undefined || from === undefined || value < 0 || from < 0
    ? -1
    : Math.round((value - from) * 1000) / 1000;
}

/**
 * `page.request` / `context.request` calls go from Playwright's Node side, not the browser:
 * neither the context's HAR recorder nor its trace (whose network log the HAR is built from)
 * sees them, so an API journey had no peers and an empty HAR. Every call goes through the
 * instance's `fetch` (get, post, … call it), so wrapping it there records each call's server
 * address as a peer, a HAR entry (headers, status, timings, serverIPAddress; no bodies, as
 * the page's HAR), and a refused or reset call as a failed request named in the failure reason.
 */
export function observeApiRequests(request: APIRequestContext, observations: PageObservations): void {
  const original: Fetch = request.fetch.bind(request);
  const wrapped: Fetch = async (urlOrRequest, options) => {
    const url = typeof urlOrRequest === 'string' ? urlOrRequest : urlOrRequest.url();
    const method = (
      options?.method ?? (typeof urlOrRequest === 'string' ? 'GET' : urlOrRequest.method())
    ).toUpperCase();
    const startedAt = Date.now();
    const t0 = performance.now();
    let response: APIResponse;
    try {
      response = await original(urlOrRequest, options);
    } catch (error) {
      const message = ((error as Error)?.message ?? String(error))
        .split('\n')[0]
        .replace(API_ERROR_PREFIX_RE, '');
      if (!CLOSED_RE.test(message)) {
        observations.recordFailedRequest(method, url, message);
        observations.apiHarEntries.push(
          harEntry(method, url, startedAt, performance.now() - t0, options?.headers, undefined, {
            _failureText: message,
          }),
        );
      }
      throw error;
    }
    const internals = response as unknown as ApiResponseInternals;
    const lookup = (internals.serverAddr?.() ?? Promise.resolve(null))
      .then((address) => {
        if (address) observations.addPeer(address.ipAddress, address.port);
        return address;
      })
      .catch(() => null);
    observations.peerLookups.push(lookup.then(() => {}));
    const address = await lookup;
    const timing = internals.timing?.() ?? {};
    observations.apiHarEntries.push(
      harEntry(method, response.url() || url, startedAt, performance.now() - t0, options?.headers, response, {
        ...(address ? { serverIPAddress: address.ipAddress, _serverPort: address.port } : {}),
        timings: {
          blocked: -1,
          dns: millis(timing.domainLookupEnd, timing.domainLookupStart),
          connect: millis(timing.connectEnd, timing.connectStart),
          ssl: millis(timing.connectEnd, timing.secureConnectionStart),
          send: 0,
          wait: millis(timing.responseStart, timing.requestStart),
          receive: millis(timing.responseEnd, timing.responseStart),
        },
      }),
    );
    return response;
  };
  request.fetch = wrapped;
}

function harEntry(
  method: string,
  url: string,
  startedAt: number,
  durationMs: number,
  requestHeaders: Record<string, string> | undefined,
  response: APIResponse | undefined,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  let queryString: Array<{ name: string; value: string }> = [];
  try {
    queryString = [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    // a relative URL without baseURL: Playwright refused it, and the entry still says so
  }
  return {
    startedDateTime: new Date(startedAt).toISOString(),
    time: Math.round(durationMs * 1000) / 1000,
    request: {
      method,
      url,
      httpVersion: 'HTTP/1.1',
      cookies: [],
      // Only the headers the call set: Playwright adds the context's own (user agent,
      // extraHTTPHeaders, cookies) without telling its caller.
      headers: Object.entries(requestHeaders ?? {}).map(([name, value]) => ({ name, value: String(value) })),
      queryString,
      headersSize: -1,
      bodySize: -1,
    },
    response: {
      status: response?.status() ?? 0,
      statusText: response?.statusText() ?? '',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: response?.headersArray() ?? [],
      content: { size: -1, mimeType: response?.headers()['content-type'] ?? 'x-unknown' },
      redirectURL: response?.headers().location ?? '',
      headersSize: -1,
      bodySize: -1,
    },
    cache: {},
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: -1, receive: -1 },
    _resourceType: 'fetch',
    _apiRequest: true,
    ...extra,
  };
}
