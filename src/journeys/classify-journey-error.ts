import type { ErrorClass } from '../results/run-result.ts';

/** Chromium's network error codes, as Playwright reports them in navigation errors. */
const NET_ERRORS: Array<[RegExp, ErrorClass]> = [
  [/net::ERR_NAME_NOT_RESOLVED|net::ERR_NAME_RESOLUTION_FAILED/, 'dns'],
  [/net::ERR_CONNECTION_REFUSED/, 'refused'],
  [/net::ERR_ADDRESS_UNREACHABLE|net::ERR_INTERNET_DISCONNECTED/, 'unreachable'],
  [/net::ERR_CONNECTION_TIMED_OUT|net::ERR_TIMED_OUT/, 'connect_timeout'],
  [
    /net::ERR_CONNECTION_RESET|net::ERR_CONNECTION_CLOSED|net::ERR_EMPTY_RESPONSE|net::ERR_CONNECTION_ABORTED/,
    'reset',
  ],
  [/net::ERR_CERT_|net::ERR_SSL_/, 'tls'],
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

/** What kind of failure a thrown journey error is. */
export function classifyJourneyError(error: unknown): ErrorClass {
  const message = (error as Error)?.message ?? String(error);
  for (const [pattern, errorClass] of NET_ERRORS) if (pattern.test(message)) return errorClass;
  if ((error as Error)?.name === 'TimeoutError') return 'timeout';
  // Web-first assertions, and whatever the journey itself throws, mean the site did not
  // behave as the customer needs.
  return 'assertion';
}
