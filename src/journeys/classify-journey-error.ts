import { ERROR_CODES, type ErrorCode } from '../results/error-codes.ts';
import type { ErrorClass } from '../results/run-result.ts';

/** Chromium's network error codes, as Playwright reports them in navigation errors. */
const NET_ERRORS: Array<[RegExp, ErrorCode]> = [
  [/net::ERR_NAME_NOT_RESOLVED|net::ERR_NAME_RESOLUTION_FAILED/, 'DNS_NOT_FOUND'],
  [/net::ERR_CONNECTION_REFUSED/, 'CONNECT_REFUSED'],
  [/net::ERR_ADDRESS_UNREACHABLE|net::ERR_INTERNET_DISCONNECTED/, 'UNREACHABLE'],
  [/net::ERR_CONNECTION_TIMED_OUT|net::ERR_TIMED_OUT/, 'CONNECT_TIMEOUT'],
  [/net::ERR_CONNECTION_RESET|net::ERR_CONNECTION_ABORTED/, 'CONNECTION_RESET'],
  [/net::ERR_CONNECTION_CLOSED|net::ERR_EMPTY_RESPONSE/, 'CONNECTION_CLOSED'],
  [/net::ERR_CERT_DATE_INVALID/, 'TLS_EXPIRED'],
  [/net::ERR_CERT_AUTHORITY_INVALID/, 'TLS_UNTRUSTED'],
  [/net::ERR_CERT_COMMON_NAME_INVALID/, 'TLS_HOSTNAME'],
  [/net::ERR_CERT_|net::ERR_SSL_/, 'TLS_HANDSHAKE'],
  // As the http check classes it: a redirect loop or an endless chain is the site's protocol
  // fault. (Not ERR_INVALID_AUTH_CREDENTIALS as `auth`: Chromium gives it for a 401 when no
  // credentials were set, which is not a refused login.)
  [/net::ERR_TOO_MANY_REDIRECTS/, 'TOO_MANY_REDIRECTS'],
];

const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/**
 * Playwright's messages are many lines (a call log, the expected and received values);
 * an alert needs one: keep what was expected and what was found, drop the call log.
 */
export function compactPlaywrightMessage(message: string): string {
  const lines = message
    .replace(ANSI_COLOUR, '') // colour codes from expect()
    .split('\n')
    .map((line) => line.trim());
  const callLog = lines.findIndex((line) => /^(Call log|=+ logs =+)/.test(line));
  const kept = (callLog >= 0 ? lines.slice(0, callLog) : lines).filter(Boolean);
  return kept.join('; ').replace(/:;/g, ':').replace(/\s+/g, ' ');
}

/** The error code of a thrown journey error. */
export function journeyErrorCode(error: unknown): ErrorCode {
  const message = (error as Error)?.message ?? String(error);
  for (const [pattern, code] of NET_ERRORS) if (pattern.test(message)) return code;
  if ((error as Error)?.name === 'TimeoutError') return 'TIMEOUT';
  // Web-first assertions, and whatever the journey itself throws, mean the site did not
  // behave as the customer needs.
  return 'ASSERTION';
}

/** What kind of failure a thrown journey error is: its code's class. */
export function classifyJourneyError(error: unknown): ErrorClass {
  return ERROR_CODES[journeyErrorCode(error)].class;
}
